import pc from 'picocolors';
import { loadConfig } from '../config/config.ts';
import { compareCatalogs, publishedCatalog } from '../governance/compare.ts';
import { governCatalog } from '../governance/govern.ts';
import { judgeStatically } from '../governance/guardrails.ts';
import type { DefinitionVersion } from '../governance/records.ts';
import type { GovernanceReport } from '../governance/report-schema.ts';
import { loadCatalog } from '../language/catalog.ts';
import { formatProblem } from '../language/errors.ts';
import { findLakeFiles } from '../local/lake-files.ts';
import { stateCatalog } from '../local/state-catalog.ts';
import type { Manifest } from '../store/manifest.ts';
import type { Folders, Output } from './commands.ts';
import { parseAsOf } from './commands.ts';
import { UsageError } from './errors.ts';
import { table } from './format.ts';
import { openLocalContext } from './local-context.ts';
import { formatPlan } from './plan-format.ts';

/** A refresh refused definition changes: it refreshed the rest, and this is its error line. */
export class GuardrailRefusedError extends Error {
  override readonly name = 'GuardrailRefusedError';
}

/**
 * `cohorts plan [--as-of ISO]`: the working definitions against the published catalog, with
 * the rule diffs, dependants, members added and removed on the current data (one query), and
 * the guardrails' verdicts. Exit 1 when a guardrail refuses a change (or a definition is invalid).
 */
export async function planCommand(folders: Folders, options: { readonly asOf?: string }, io: Output): Promise<number> {
  const asOf = parseAsOf(options.asOf);
  const working = await loadCatalog(folders.definitions);
  if (working.problems.length > 0) {
    for (const problem of working.problems) io.out(formatProblem(problem));
    return 1;
  }
  const config = await loadConfig(folders.config);
  await findLakeFiles(folders.data);
  const catalog = stateCatalog(folders.state);
  const { engine } = await openLocalContext(folders);
  const published = await catalog.latest();
  const governance = await governCatalog({ working, asOf, measureAll: true }, { catalog, engine, settings: config.guardrails });
  io.out(formatPlan(governance, { asOf: asOf.toISOString(), publishedCount: published.size }));
  return governance.changes.some((c) => c.verdict === 'refused') ? 1 : 0;
}

/** Options of `cohorts approve` and `cohorts reject`. */
export interface DecisionOptions {
  readonly by?: string;
  readonly note?: string;
}

/**
 * `cohorts approve ID --by NAME --note WHY` (and `reject`): records the decision on the working
 * definition of a core cohort whose change needs one. The next refresh accepts an approved change
 * (or refuses a rejected one). A decision is never rewritten.
 */
export async function decideCommand(
  folders: Folders,
  id: string,
  decision: 'approved' | 'rejected',
  options: DecisionOptions,
  io: Output,
  now: () => Date = () => new Date(),
): Promise<number> {
  const verb = decision === 'approved' ? 'approve' : 'reject';
  if (!options.by?.trim() || !options.note?.trim()) throw new UsageError(`usage: cohorts ${verb} ID --by NAME --note WHY (who decides and why are recorded)`);
  const working = await loadCatalog(folders.definitions);
  if (working.problems.length > 0) throw new UsageError(`fix the definitions first (cohorts validate): ${formatProblem(working.problems[0]!)}`);
  const catalog = stateCatalog(folders.state);
  const change = compareCatalogs(working.definitions, publishedCatalog(await catalog.latest())).find((c) => c.cohort === id);
  if (!change) throw new UsageError(`no cohort "${id}" in ${folders.definitions} or in the published catalog`);
  if (change.kind === 'unchanged') throw new UsageError(`nothing to ${verb}: the definition of "${id}" is the published one`);
  if (change.kind === 'added' || !change.after) throw new UsageError(`nothing to ${verb}: "${id}" ${change.kind === 'added' ? 'is new' : 'was removed'}, which needs no approval`);
  const judged = judgeStatically(change);
  if (judged.refusals.length > 0) throw new UsageError(`"${id}" cannot be ${decision}: ${judged.refusals.join('; ')}`);
  if (judged.approvals.length === 0 && !judged.measure_size) {
    throw new UsageError(`nothing to ${verb}: the change of "${id}" needs no approval (only core cohorts' tier, cadence and rule changes do)`);
  }
  const record = { cohort: id, hash: change.after.hash, decision, by: options.by.trim(), note: options.note.trim(), at: now().toISOString() };
  await catalog.decide(record);
  io.out(`${id}: definition ${record.hash.slice(0, 12)} ${decision} by ${record.by}`);
  io.err(`recorded in ${catalog.locateDecision(id, record.hash)}; the next refresh ${decision === 'approved' ? 'accepts' : 'refuses'} it`);
  return 0;
}

/** How a manifest names its definition in `cohorts history`: `d3 1a2b3c4d5e6f`. */
export function definitionLabel(definition: Manifest['definition']): string {
  return `${definition.version === undefined ? '' : `d${definition.version} `}${definition.hash.slice(0, 12)}`;
}

function acceptedRow(entry: DefinitionVersion): string[] {
  const approval = entry.approval ? `${entry.approval.decision} by ${entry.approval.by}: ${entry.approval.note}` : '';
  return [`d${entry.version}`, entry.accepted_at, entry.change, entry.hash?.slice(0, 12) ?? '', entry.author ?? '', entry.change_reason ?? '', approval];
}

/** The definition versions of a cohort, refused and waiting changes included, as a table; undefined when there are none. */
export async function definitionHistory(state: string, id: string): Promise<string | undefined> {
  const catalog = stateCatalog(state);
  const versions = await catalog.versions(id);
  const records = await catalog.records(id);
  if (versions.length === 0 && records.length === 0) return undefined;
  const rows = [
    ...versions.map((entry) => ({ at: entry.accepted_at, row: acceptedRow(entry) })),
    ...records.map((r) => ({
      at: r.at,
      row: [r.outcome === 'refused' ? pc.red('refused') : pc.yellow('pending'), r.at, r.outcome, r.hash?.slice(0, 12) ?? '', r.author ?? '', '', r.reasons.join('; ')],
    })),
  ].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return table(['definition', 'at', 'change', 'hash', 'author', 'change_reason', 'approval / reasons'], rows.map((r) => r.row));
}

/** What `cohorts run` says about definition changes; throws GuardrailRefusedError when one was refused. */
export function reportGovernance(report: GovernanceReport | undefined, io: Output): void {
  const held = (report?.changes ?? []).filter((c) => c.verdict !== 'accepted');
  for (const change of held.filter((c) => c.verdict === 'pending')) {
    io.err(pc.yellow(`${change.cohort}: the change waits for an approval (cohorts approve ${change.cohort} --by NAME --note WHY); refreshed with its accepted definition`));
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
