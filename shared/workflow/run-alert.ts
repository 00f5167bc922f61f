import type { CohortOutcome } from '../engine/snapshot-cohort.ts';
import type { RefreshPlan } from '../engine/plan.ts';
import type { AlertFailureEvent } from './events.ts';
import { stepTimeoutText } from './step-limits.ts';
import type { WorkflowSummary } from './types.ts';
import type { Alert } from '../ports.ts';

const TITLE_LIMIT = 100;
const CAUSE_LIMIT = 1500;

/** One line of at most `limit` characters. */
function line(text: string, limit = TITLE_LIMIT): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= limit ? flat : `${flat.slice(0, limit - 1)}…`;
}

const problems = (outcome: CohortOutcome) => outcome.checks.filter((check) => check.status !== 'pass');

const signedPct = (size: number, previous: number) =>
  previous === 0 ? 'new' : `${size >= previous ? '+' : ''}${Math.round(((size - previous) / previous) * 1000) / 10}%`;

/** How a cohort moved: `power_users v4: 812 members (+40 -12, +3.6%)`. */
function movement(c: CohortOutcome): string {
  const previous = c.size - c.entered + c.exited;
  const change = c.previous_version === null ? 'first version' : `+${c.entered} -${c.exited}, ${signedPct(c.size, previous)}`;
  return `${c.cohort} v${c.version}: ${c.size} members (${change})`;
}

/** What a held or changed cohort means for the programs (experiments) that use it. */
function programImpact(c: CohortOutcome, plan: RefreshPlan | undefined): string | undefined {
  const program = plan?.cohorts.find((p) => p.id === c.cohort)?.definition.program;
  if (!program) return undefined;
  const name = program.experiment ?? program.hypothesis ?? 'its program';
  const metric = program.outcome_metric ? ` (outcome: ${program.outcome_metric})` : '';
  if (c.status === 'held') {
    const kept = c.previous_version === null ? 'has no published audience yet' : `keeps using v${c.previous_version}`;
    return `${name}${metric} ${kept} until ${c.cohort} is fixed or approved`;
  }
  // With a holdout the program acts on the treatment arm only; the holdout is there to compare with.
  if (c.arms) {
    const { treatment, holdout } = c.arms;
    return (
      `${name}${metric} now targets ${treatment.size} treatment members of ${c.cohort} (${treatment.entered} new, ${treatment.exited} gone); ` +
      `${holdout.size} held out (${holdout.entered} new, ${holdout.exited} gone)`
    );
  }
  return `${name}${metric} now targets ${c.size} members of ${c.cohort} (${c.entered} new, ${c.exited} gone)`;
}

/**
 * The one alert of a finished run, grouping what happened: what was held and why, what warned,
 * which cohorts moved and by how much, and the expected impact on the programs using them.
 * `fail` when a version was held, `warn` when a check only warned, `info` when cohorts only
 * moved; undefined when nothing new was written.
 */
export function runAlert(summary: Omit<WorkflowSummary, 'alert'>, plan?: RefreshPlan): Alert | undefined {
  const held = summary.cohorts.filter((c) => c.status === 'held');
  const warned = summary.cohorts.filter((c) => c.status === 'published' && problems(c).length > 0);
  const moved = summary.cohorts.filter((c) => c.status === 'published' && (c.entered > 0 || c.exited > 0));
  if (held.length === 0 && warned.length === 0 && moved.length === 0) return undefined;
  const published = summary.cohorts.filter((c) => c.status === 'published').length;
  const unchanged = summary.cohorts.filter((c) => c.status === 'unchanged').length;
  const parts = [
    held.length > 0 ? `${held.length} held` : '',
    warned.length > 0 ? `${warned.length} with warnings` : '',
    held.length + warned.length === 0 ? `${moved.length} moved` : '',
  ].filter(Boolean);
  const impacts = [...held, ...moved].map((c) => programImpact(c, plan)).filter((line): line is string => line !== undefined);
  const section = (title: string, lines: readonly string[]) => (lines.length > 0 ? ['', title, ...lines] : []);
  const body = [
    `Run ${summary.run_id} as of ${summary.as_of} (${summary.trigger}): ${published} published, ${held.length} held, ` +
      `${unchanged} unchanged; ${summary.population} people in the population.`,
    ...section(
      'Held (downstream keeps the previous version):',
      held.flatMap((c) => [
        `${c.cohort} v${c.version}: current stays at ${c.previous_version === null ? 'none' : `v${c.previous_version}`}`,
        ...problems(c).map((check) => `  ${check.status} ${check.name}: ${check.message}`),
      ]),
    ),
    ...section(
      'Warnings (published):',
      warned.flatMap((c) => [
        `${c.cohort} v${c.version}:`,
        ...problems(c).map((check) => `  ${check.status} ${check.name}: ${check.message}`),
      ]),
    ),
    ...section('Moved:', moved.map(movement)),
    ...section('Programs affected:', impacts),
  ].join('\n');
  return {
    severity: held.length > 0 ? 'fail' : warned.length > 0 ? 'warn' : 'info',
    title: line(`cohort refresh ${summary.as_of}: ${parts.join(', ')}`),
    body,
    run_id: summary.run_id,
    cohorts: [...new Set([...held, ...warned, ...moved].map((c) => c.cohort))],
    details: {
      held: held.map((c) => c.cohort),
      warned: warned.map((c) => c.cohort),
      moved: moved.map((c) => ({ cohort: c.cohort, version: c.version, size: c.size, entered: c.entered, exited: c.exited })),
    },
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
  const timedOut = error === 'States.Timeout' ? stepTimeoutText(step) : undefined;
  const reason = timedOut ?? causeText(cause);
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
