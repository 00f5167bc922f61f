import type { Alert } from '../notify/notifier.ts';
import type { CohortGovernance } from './govern.ts';
import type { GovernanceReport } from './report-schema.ts';

const TITLE_LIMIT = 100;

function kept(change: CohortGovernance): string {
  return change.published ? `the refresh keeps its accepted definition v${change.published.version}` : 'nothing of it is refreshed';
}

function lines(change: CohortGovernance, owner: string | undefined): string[] {
  const who = owner ? ` (owner: ${owner})` : '';
  const what = change.verdict === 'refused' ? 'change refused' : 'change waits for an approval';
  return [
    `${change.cohort}${who}: ${what}; ${kept(change)}.`,
    ...change.reasons.map((reason) => `  ${reason}`),
    ...(change.dependants.length > 0 ? [`  read by: ${change.dependants.join(', ')}`] : []),
    ...(change.verdict === 'pending' && change.hash
      ? [`  approve: cohorts approve ${change.cohort} --by NAME --note WHY (or cohorts reject ...); definition ${change.hash.slice(0, 12)}`]
      : []),
  ];
}

/**
 * The alert of definition changes a run refused or keeps waiting for an approval, sent once per
 * change (the run that first recorded it), addressed to the owners: `fail` when one was refused,
 * `warn` when changes only wait. Undefined when there is nothing new to say.
 */
export function governanceAlert(runId: string, report: GovernanceReport | undefined, owners: ReadonlyMap<string, string>): Alert | undefined {
  const alerted = new Set(report?.alerted ?? []);
  const changes = (report?.changes ?? []).filter((c) => c.verdict !== 'accepted' && alerted.has(c.cohort));
  if (changes.length === 0) return undefined;
  const refused = changes.filter((c) => c.verdict === 'refused');
  const pending = changes.filter((c) => c.verdict === 'pending');
  const parts = [refused.length > 0 ? `${refused.length} refused` : '', pending.length > 0 ? `${pending.length} waiting for approval` : ''].filter(Boolean);
  const title = `definition changes: ${parts.join(', ')} (${changes.map((c) => c.cohort).join(', ')})`;
  return {
    severity: refused.length > 0 ? 'fail' : 'warn',
    title: title.length <= TITLE_LIMIT ? title : `${title.slice(0, TITLE_LIMIT - 1)}…`,
    body: [
      `Run ${runId} applied the guardrails on definition changes (SPEC section 7).`,
      ...changes.flatMap((c) => ['', ...lines(c, owners.get(c.cohort))]),
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
