import pc from 'picocolors';
import { type CatalogStore, DecisionExistsError } from '../governance/catalog-store.ts';
import { approvalRefresh, decideChange, NothingToDecideError, type RecordedDecision } from '../governance/decide.ts';
import { decidePendingConfig } from '../governance/decide-config.ts';
import { governCatalog } from '../governance/govern.ts';
import { listChangeLines, listChanges } from '../governance/list-changes.ts';
import { CONFIG_DECISION_ID } from '../governance/pending-config.ts';
import type { DefinitionVersion } from '../governance/records.ts';
import type { GovernanceReport } from '../governance/report-schema.ts';
import { loadCatalog } from '../language/catalog.ts';
import { formatProblem } from '../language/errors.ts';
import type { Manifest } from '../store/manifest.ts';
import { type Folders, type Output, parseAsOf } from './io.ts';
import { UsageError } from './errors.ts';
import { table } from './format.ts';
import type { GovernanceWorld } from './governance-world.ts';
import { formatPlan } from './plan-format.ts';
import { shownLocation } from './shown-path.ts';

/** A refresh refused definition changes: it refreshed the rest, and this is its error line. */
export class GuardrailRefusedError extends Error {
  override readonly name = 'GuardrailRefusedError';
}

/**
 * `cohorts plan [--as-of ISO] [--cloud]`: the working definitions (the definitions folder) against
 * the published catalog of the world given (the state folder, or the definitions bucket's
 * `catalog/`), with the rule diffs, dependants, members added and removed on the current data (one
 * query, on DuckDB or Athena), and the guardrails' verdicts. Exit 1 when a guardrail refuses a
 * change (or a definition is invalid).
 */
export async function planCommand(
  folders: Folders,
  options: { readonly asOf?: string },
  world: GovernanceWorld,
  io: Output,
): Promise<number> {
  const asOf = parseAsOf(options.asOf);
  const working = await loadCatalog(folders.definitions);
  if (working.problems.length > 0) {
    for (const problem of working.problems) io.out(formatProblem(problem));
    return 1;
  }
  const config = await world.config();
  const engine = await world.engine();
  const published = await world.catalog.latest();
  const governance = await governCatalog(
    { working, asOf, measureAll: true },
    { catalog: world.catalog, engine, settings: config.guardrails },
  );
  const lists = listChangeLines(await listChanges(working.definitions, (await world.stores()).store));
  if (lists.length > 0)
    io.out(['Uploaded lists changed since the current versions read them:', ...lists.map((line) => `  ${line}`), ''].join('\n'));
  io.out(formatPlan(governance, { asOf: asOf.toISOString(), publishedCount: published.size, decisions: world.decisions }));
  return governance.changes.some((c) => c.verdict === 'refused') ? 1 : 0;
}

/** Options of `cohorts approve` and `cohorts reject`. */
export interface DecisionOptions {
  readonly by?: string;
  readonly note?: string;
  /** The definition reviewed (a hash or its first digits, as plans and alerts print it). */
  readonly hash?: string;
}

/** Recorded, but the refresh that would apply it at once did not start. */
export class ApprovalRefreshError extends Error {
  override readonly name = 'ApprovalRefreshError';
}

/**
 * `cohorts approve ID --by NAME --note WHY [--hash H] [--cloud]` (and `reject`): records the
 * decision on the waiting definition of a core cohort (the one the next refresh reads: the
 * definitions folder, or the definitions bucket's live catalog). A decision is never rewritten.
 * Where the world can start refreshes (the cloud), an approval then starts one of the cohort and
 * its dependants so the change applies at once; locally the next `cohorts run` applies it. A
 * rejection changes nothing that a refresh would redo, so it starts none.
 */
export async function decideCommand(
  id: string,
  decision: 'approved' | 'rejected',
  options: DecisionOptions,
  world: GovernanceWorld,
  io: Output,
  now: () => Date = () => new Date(),
): Promise<number> {
  const verb = decision === 'approved' ? 'approve' : 'reject';
  if (!options.by?.trim() || !options.note?.trim())
    throw new UsageError(`usage: cohorts ${verb} ID --by NAME --note WHY (who decides and why are recorded)`);
  if (id === CONFIG_DECISION_ID) return decideConfigCommand(decision, options, world, io, now);
  const working = await world.live();
  let decided: RecordedDecision;
  try {
    decided = await decideChange(
      {
        cohort: id,
        decision,
        by: options.by.trim(),
        note: options.note.trim(),
        at: now().toISOString(),
        ...(options.hash ? { hash: options.hash.toLowerCase() } : {}),
      },
      { working, catalog: world.catalog },
    );
  } catch (error) {
    throw nothingWaits(error);
  }
  const { record, location } = decided;
  io.out(`${id}: definition ${record.hash.slice(0, 12)} ${decision} by ${record.by}`);
  if (decision === 'rejected' || !world.refresh) {
    io.err(`recorded in ${shownLocation(location)}; the next refresh ${decision === 'approved' ? 'accepts' : 'refuses'} it`);
    return 0;
  }
  const { input, name } = approvalRefresh(decided, working);
  try {
    const execution = await world.refresh.start(input, name);
    io.err(`recorded in ${shownLocation(location)}; started the refresh of ${input.cohorts?.join(', ')} that applies it: ${execution}`);
  } catch (error) {
    throw new ApprovalRefreshError(
      `recorded the approval in ${shownLocation(location)}, but the refresh that applies it did not start (${error instanceof Error ? error.message : String(error)}); ` +
        `the next scheduled refresh of ${id} applies it, or start one: aws stepfunctions start-execution --state-machine-arn ARN --name ${name} --input '${JSON.stringify(input)}'`,
      { cause: error },
    );
  }
  return 0;
}

/**
 * `cohorts approve cohorts.config.yaml --by NAME --note WHY [--hash H] [--cloud]` (and `reject`):
 * the decision on the config upload that waits because it changes `privacy` or `guardrails`. An
 * approval makes it the live config (the `--config` file, or the definitions bucket's), which the
 * next refresh reads; a rejection discards it.
 */
async function decideConfigCommand(
  decision: 'approved' | 'rejected',
  options: DecisionOptions,
  world: GovernanceWorld,
  io: Output,
  now: () => Date,
): Promise<number> {
  try {
    const decided = await decidePendingConfig(
      {
        decision,
        by: (options.by as string).trim(),
        note: (options.note as string).trim(),
        at: now().toISOString(),
        ...(options.hash ? { hash: options.hash.toLowerCase() } : {}),
      },
      { config: world.configFile, catalog: world.catalog },
    );
    io.out(
      `${CONFIG_DECISION_ID}: config ${decided.record.hash.slice(0, 12)} (changing ${decided.sections.join(' and ')}) ${decision} by ${decided.record.by}`,
    );
    io.err(
      decided.promoted_to
        ? `recorded in ${shownLocation(decided.location)}; ${decided.promoted_to} is replaced: the next refresh uses it`
        : `recorded in ${shownLocation(decided.location)}; the live config is unchanged`,
    );
    return 0;
  } catch (error) {
    throw nothingWaits(error);
  }
}

/**
 * A usage error (exit 2) when nothing waits for this decision: no change that needs one, or one
 * already decided (README, exit codes); any other error as it is.
 */
function nothingWaits(error: unknown): unknown {
  return error instanceof NothingToDecideError || error instanceof DecisionExistsError ? new UsageError(error.message) : error;
}

/** How a manifest names its definition in `cohorts history`: `d3 1a2b3c4d5e6f`. */
export function definitionLabel(definition: Manifest['definition']): string {
  return `${definition.version === undefined ? '' : `d${definition.version} `}${definition.hash.slice(0, 12)}`;
}

function acceptedRow(entry: DefinitionVersion): string[] {
  const approval = entry.approval ? `${entry.approval.decision} by ${entry.approval.by}: ${entry.approval.note}` : '';
  return [
    `d${entry.version}`,
    entry.accepted_at,
    entry.change,
    entry.hash?.slice(0, 12) ?? '',
    entry.author ?? '',
    entry.change_reason ?? '',
    approval,
  ];
}

/** The definition versions of a cohort, refused and waiting changes included, as a table; undefined when there are none. */
export async function definitionHistory(catalog: CatalogStore, id: string): Promise<string | undefined> {
  const versions = await catalog.versions(id);
  const records = await catalog.records(id);
  if (versions.length === 0 && records.length === 0) return undefined;
  const rows = [
    ...versions.map((entry) => ({ at: entry.accepted_at, row: acceptedRow(entry) })),
    ...records.map((r) => ({
      at: r.at,
      row: [
        r.outcome === 'refused' ? pc.red('refused') : pc.yellow('pending'),
        r.at,
        r.outcome,
        r.hash?.slice(0, 12) ?? '',
        r.author ?? '',
        '',
        r.reasons.join('; '),
      ],
    })),
  ].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return table(
    ['definition', 'at', 'change', 'hash', 'author', 'change_reason', 'approval / reasons'],
    rows.map((r) => r.row),
  );
}

/** What `cohorts run` says about definition changes; throws GuardrailRefusedError when one was refused. */
export function reportGovernance(report: GovernanceReport | undefined, io: Output): void {
  const held = (report?.changes ?? []).filter((c) => c.verdict !== 'accepted');
  for (const change of held.filter((c) => c.verdict === 'pending')) {
    io.err(
      pc.yellow(
        `${change.cohort}: the change waits for an approval (cohorts approve ${change.cohort} --by NAME --note WHY); refreshed with its accepted definition`,
      ),
    );
  }
  const refused = held.filter((c) => c.verdict === 'refused');
  if (refused.length > 0) {
    throw new GuardrailRefusedError(
      `refused definition changes (the other cohorts were refreshed; these kept their accepted definitions):\n${refused
        .map((c) => `${c.cohort}: ${c.reasons.join('; ')}`)
        .join('\n')}`,
    );
  }
}
