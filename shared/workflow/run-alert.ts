import type { CohortOutcome } from '../engine/snapshot-cohort.ts';
import type { Alert } from '../notify/notifier.ts';
import type { AlertFailureEvent } from './events.ts';
import type { WorkflowSummary } from './types.ts';

const TITLE_LIMIT = 100;
const CAUSE_LIMIT = 1500;

/** One line of at most `limit` characters. */
function line(text: string, limit = TITLE_LIMIT): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= limit ? flat : `${flat.slice(0, limit - 1)}…`;
}

const problems = (outcome: CohortOutcome) => outcome.checks.filter((check) => check.status !== 'pass');

/**
 * The one alert of a finished run, or undefined when every cohort published or stayed unchanged
 * without a warning. `fail` when a version was held, `warn` when a check only warned.
 */
export function runAlert(summary: Omit<WorkflowSummary, 'alert'>): Alert | undefined {
  const held = summary.cohorts.filter((c) => c.status === 'held');
  const warned = summary.cohorts.filter((c) => c.status !== 'held' && problems(c).length > 0);
  if (held.length === 0 && warned.length === 0) return undefined;
  const published = summary.cohorts.filter((c) => c.status === 'published').length;
  const unchanged = summary.cohorts.filter((c) => c.status === 'unchanged').length;
  const parts = [held.length > 0 ? `${held.length} held` : '', warned.length > 0 ? `${warned.length} with warnings` : ''].filter(Boolean);
  const body = [
    `Run ${summary.run_id} as of ${summary.as_of} (${summary.trigger}): ${published} published, ${held.length} held, ` +
      `${unchanged} unchanged; ${summary.population} people in the population.`,
    '',
    ...[...held, ...warned].flatMap((c) => [
      `${c.cohort} v${c.version} ${c.status === 'held' ? 'held (current stays at ' + (c.previous_version === null ? 'none' : `v${c.previous_version}`) + ')' : c.status}:`,
      ...problems(c).map((check) => `  ${check.status} ${check.name}: ${check.message}`),
    ]),
  ].join('\n');
  return {
    severity: held.length > 0 ? 'fail' : 'warn',
    title: line(`cohort refresh ${summary.as_of}: ${parts.join(', ')}`),
    body,
    run_id: summary.run_id,
    cohorts: [...held, ...warned].map((c) => c.cohort),
    details: { held: held.map((c) => c.cohort), warned: warned.map((c) => c.cohort) },
  };
}

/** The readable part of a Step Functions error cause: a Lambda's errorMessage, Athena's reason, or the text. */
export function causeText(cause: string | null | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as Record<string, unknown>;
    const lambda = typeof parsed.errorMessage === 'string' ? parsed.errorMessage : undefined;
    const athena = (parsed.QueryExecution as { Status?: { StateChangeReason?: unknown } } | undefined)?.Status?.StateChangeReason;
    const text = lambda ?? (typeof athena === 'string' ? athena : undefined);
    if (text !== undefined) return text.slice(0, CAUSE_LIMIT);
  } catch {
    // Not JSON: the cause is the message itself (local runs, Fail states).
  }
  return cause.slice(0, CAUSE_LIMIT);
}

/** The `error` alert of a run that stopped at a step. */
export function failureAlert(event: AlertFailureEvent): Alert {
  const { step, execution } = event.failed;
  const { Error: error, Cause: cause } = event.error;
  const reason = causeText(cause);
  const runId = event.plan?.run_id;
  const cohorts = event.plan ? event.plan.cohorts.map((c) => c.id) : (event.cohorts ?? []);
  return {
    severity: 'error',
    title: line(`cohort refresh failed at ${step}: ${error}${reason ? ` (${reason})` : ''}`),
    body: [
      `The refresh stopped at ${step} with ${error}.`,
      ...(reason ? ['', reason] : []),
      '',
      `Run: ${runId ?? '(not planned)'}`,
      `Execution: ${execution}`,
      '',
      'A cohort only moves to a version that is completely written and passed its checks; every cohort whose snapshot did not complete keeps its current version.',
    ].join('\n'),
    ...(runId === undefined ? {} : { run_id: runId }),
    cohorts,
    step,
    details: { error, cause: reason, execution },
  };
}
