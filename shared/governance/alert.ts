import { type DecisionInstructions, decisionCommand, LOCAL_DECISIONS } from './decision-command.ts';
import type { CohortGovernance } from './govern.ts';
import type { GovernanceReport } from './report-schema.ts';
import type { Alert } from '../ports.ts';

const TITLE_LIMIT = 100;

function kept(change: CohortGovernance): string {
  return change.published ? `the refresh keeps its accepted definition v${change.published.version}` : 'nothing of it is refreshed';
}

function decisionLines(change: CohortGovernance, where: DecisionInstructions): string[] {
  if (change.verdict !== 'pending' || !change.hash) return [];
  const write = where.locate?.(change.cohort, change.hash);
  return [
    `  approve: ${decisionCommand('approve', change.cohort, change.hash, where)} (or cohorts reject ...); definition ${change.hash.slice(0, 12)}`,
    ...(write
      ? [`  or write the decision object ${write}: {"cohort", "hash", "decision": "approved" or "rejected", "by", "note", "at"}`]
      : []),
  ];
}

function lines(change: CohortGovernance, owner: string | undefined, where: DecisionInstructions): string[] {
  const who = owner ? ` (owner: ${owner})` : '';
  const what = change.verdict === 'refused' ? 'change refused' : 'change waits for an approval';
  return [
    `${change.cohort}${who}: ${what}; ${kept(change)}.`,
    ...change.reasons.map((reason) => `  ${reason}`),
    ...(change.dependants.length > 0 ? [`  read by: ${change.dependants.join(', ')}`] : []),
    ...decisionLines(change, where),
  ];
}

/**
 * The alert of definition changes a run refused or keeps waiting for an approval, sent once per
 * change (the run that first recorded it), addressed to the owners: `fail` when one was refused,
 * `warn` when changes only wait, with the exact command that decides each waiting one where the
 * run happened (`where`). Undefined when there is nothing new to say.
 */
export function governanceAlert(
  runId: string,
  report: GovernanceReport | undefined,
  owners: ReadonlyMap<string, string>,
  where: DecisionInstructions = LOCAL_DECISIONS,
): Alert | undefined {
  const alerted = new Set(report?.alerted ?? []);
  const changes = (report?.changes ?? []).filter((c) => c.verdict !== 'accepted' && alerted.has(c.cohort));
  if (changes.length === 0) return undefined;
  const refused = changes.filter((c) => c.verdict === 'refused');
  const pending = changes.filter((c) => c.verdict === 'pending');
  const parts = [
    refused.length > 0 ? `${refused.length} refused` : '',
    pending.length > 0 ? `${pending.length} waiting for approval` : '',
  ].filter(Boolean);
  const title = `definition changes: ${parts.join(', ')} (${changes.map((c) => c.cohort).join(', ')})`;
  return {
    severity: refused.length > 0 ? 'fail' : 'warn',
    title: title.length <= TITLE_LIMIT ? title : `${title.slice(0, TITLE_LIMIT - 1)}…`,
    body: [
      `Run ${runId} applied the guardrails on definition changes (SPEC section 7).`,
      ...changes.flatMap((c) => ['', ...lines(c, owners.get(c.cohort), where)]),
    ].join('\n'),
    run_id: runId,
    cohorts: changes.map((c) => c.cohort),
    details: {
      refused: refused.map((c) => c.cohort),
      pending: pending.map((c) => ({ cohort: c.cohort, hash: c.hash })),
      owners: Object.fromEntries(changes.flatMap((c) => (owners.has(c.cohort) ? [[c.cohort, owners.get(c.cohort)]] : []))),
    },
  };
}
