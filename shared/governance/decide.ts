import type { CohortDefinition } from '../language/ast.ts';
import type { Catalog } from '../language/catalog.ts';
import { InvalidDefinitionsError } from '../language/errors.ts';
import { definitionChangeRefresh, type RefreshInput } from '../refresh-request.ts';
import type { CatalogStore } from './catalog-store.ts';
import { compareCatalogs, publishedCatalog } from './compare.ts';
import { judgeStatically } from './guardrails.ts';
import type { ApprovalDecision } from './records.ts';

/** A decision that cannot be taken: nothing of that cohort waits, or not that definition. */
export class NothingToDecideError extends Error {
  override readonly name = 'NothingToDecideError';
}

/** One approval or rejection as a person asks for it. */
export interface DecisionRequest {
  readonly cohort: string;
  readonly decision: ApprovalDecision['decision'];
  readonly by: string;
  readonly note: string;
  readonly at: string;
  /**
   * The definition the decider reviewed: its hash or a prefix of it (as plans and alerts print
   * it). When the waiting definition has another hash, nothing is recorded.
   * @default - whatever definition waits now
   */
  readonly hash?: string;
}

/** A recorded decision and the definition it is about. */
export interface RecordedDecision {
  readonly record: ApprovalDecision;
  /** The decided definition, as the catalog a refresh reads holds it. */
  readonly definition: CohortDefinition;
  /** Where the decision object lives. */
  readonly location: string;
}

/** A definition hash or its first 6 or more hex digits, as `--hash` takes it. */
export const HASH_PREFIX = /^[0-9a-f]{6,64}$/;

/**
 * Records an approval or rejection of the change that waits for one: the definition of the
 * cohort in `working` (the catalog the next refresh reads: the definitions folder locally, the
 * definitions bucket's live catalog in the cloud) must be a change of a core cohort that the
 * guardrails hold for a decision (tier, cadence, or a rule change whose size move is measured),
 * not refused outright. A decision is written once (a conditional create) and never rewritten.
 */
export async function decideChange(
  request: DecisionRequest,
  ports: { readonly working: Catalog; readonly catalog: CatalogStore },
): Promise<RecordedDecision> {
  const { cohort, decision } = request;
  const verb = decision === 'approved' ? 'approve' : 'reject';
  // A failure of the project, not of the command line (README, exit codes: 1), as for plan and checks.
  if (ports.working.problems.length > 0) throw new InvalidDefinitionsError(ports.working.problems);
  if (request.hash !== undefined && !HASH_PREFIX.test(request.hash)) {
    throw new NothingToDecideError(
      `--hash must be a definition hash or its first 6 or more hex digits (as plans and alerts print it), got "${request.hash}"`,
    );
  }
  const change = compareCatalogs(ports.working.definitions, publishedCatalog(await ports.catalog.latest())).find(
    (c) => c.cohort === cohort,
  );
  if (!change) throw new NothingToDecideError(`no cohort "${cohort}" in the definitions or in the published catalog`);
  if (change.kind === 'unchanged') throw new NothingToDecideError(`nothing to ${verb}: the definition of "${cohort}" is the published one`);
  if (change.kind === 'added' || !change.after) {
    throw new NothingToDecideError(
      `nothing to ${verb}: "${cohort}" ${change.kind === 'added' ? 'is new' : 'was removed'}, which needs no approval`,
    );
  }
  const { after } = change;
  if (request.hash !== undefined && !after.hash.startsWith(request.hash)) {
    throw new NothingToDecideError(
      `definition ${request.hash} of "${cohort}" is not the one waiting: ${after.path} holds ${after.hash.slice(0, 12)} now; review that one (cohorts plan) and decide on it`,
    );
  }
  const judged = judgeStatically(change);
  if (judged.refusals.length > 0) throw new NothingToDecideError(`"${cohort}" cannot be ${decision}: ${judged.refusals.join('; ')}`);
  if (judged.approvals.length === 0 && !judged.measure_size) {
    throw new NothingToDecideError(
      `nothing to ${verb}: the change of "${cohort}" needs no approval (only core cohorts' tier, cadence and rule changes do)`,
    );
  }
  const record: ApprovalDecision = { cohort, hash: after.hash, decision, by: request.by, note: request.note, at: request.at };
  await ports.catalog.decide(record);
  return { record, definition: after, location: ports.catalog.locateDecision(cohort, after.hash) };
}

/**
 * The refresh that applies an approved change at once: the cohort and every live cohort that
 * reads it, as a definition change with its change_reason as rationale. Its execution name
 * follows from the decision (one decision per definition), so starting it twice starts one.
 */
export function approvalRefresh(decided: RecordedDecision, working: Catalog): { readonly input: RefreshInput; readonly name: string } {
  const { definition, record } = decided;
  return {
    input: definitionChangeRefresh(working.definitions, definition.id, definition.change_reason),
    name: `approval-${record.hash.slice(0, 16)}-${record.cohort}`.slice(0, 80),
  };
}
