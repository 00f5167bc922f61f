import type { CohortOutcome } from '../engine/snapshot-cohort.ts';
import type { WorkflowPlan, WorkflowSummary } from './types.ts';

/**
 * The metrics a refresh emits, as plain points: which step emits what, under which dimensions.
 * The Lambda handlers publish them with Powertools (namespace {@link METRICS_NAMESPACE}, plus a
 * `service` dimension naming the deployment); the CloudWatch dashboard plots the same names. Both
 * import them from here, so a renamed metric cannot leave the dashboard plotting nothing.
 */

/** CloudWatch namespace of every refresh metric. */
export const METRICS_NAMESPACE = 'CohortRefresh';

/** Names of the refresh metrics. */
export const RefreshMetric = {
  /** Members of the cohort's newest version (held ones included), or of its current one when unchanged. Per cohort. */
  CohortSize: 'CohortSize',
  /** Members who entered since the previous published version. Per cohort, new versions only. */
  CohortEntered: 'CohortEntered',
  /** Members who left since the previous published version. Per cohort, new versions only. */
  CohortExited: 'CohortExited',
  /** Size change against the previous published version, in percent (+10 = grew by a tenth). Per cohort, when a non-empty previous version exists. */
  CohortDrift: 'CohortDrift',
  /** Checks of the new version that warned. Per cohort. */
  CohortChecksWarned: 'CohortChecksWarned',
  /** Checks of the new version that failed (the version is held). Per cohort. */
  CohortChecksFailed: 'CohortChecksFailed',
  /** Cohorts a run planned. Per run. */
  CohortsPlanned: 'CohortsPlanned',
  /** Cohorts a run published. Per run. */
  CohortsPublished: 'CohortsPublished',
  /** Cohorts a run published with at least one warning. Per run. */
  CohortsWarned: 'CohortsWarned',
  /** Cohorts a run held. Per run. */
  CohortsHeld: 'CohortsHeld',
  /** Cohorts a run found unchanged (no new version). Per run. */
  CohortsUnchanged: 'CohortsUnchanged',
  /** People in the population at the run's as-of. Per run. */
  Population: 'Population',
  /** From the execution's start to the end of Finish. Per run. */
  RunDuration: 'RunDuration',
  /** One per finished or failed run, under an `outcome` dimension. */
  Runs: 'Runs',
  /** One per scheduled run skipped because the previous run of its cadence still ran. */
  RunsSkipped: 'RunsSkipped',
} as const;

export type RefreshMetric = (typeof RefreshMetric)[keyof typeof RefreshMetric];

/** Counted by every Lambda step's handler, under `service` and `step` dimensions. */
export const StepMetric = {
  StepSucceeded: 'StepSucceeded',
  /** A failed invocation; Step Functions may retry it. */
  StepFailed: 'StepFailed',
  /**
   * A Plan that found the tile store's lease held by another execution and waits for it
   * (TilesBusyError, retried every 30 s): not a failure, so not StepFailed. One per attempt.
   */
  TilesBusy: 'TilesBusy',
} as const;

/** Dimension names besides Powertools' `service`. */
export const MetricDimension = { cohort: 'cohort', outcome: 'outcome', step: 'step' } as const;

/** How a run ended, worst first: the value of the `outcome` dimension of {@link RefreshMetric.Runs}. */
export const RUN_OUTCOMES = ['failed', 'held', 'warned', 'clean'] as const;

export type RunOutcome = (typeof RUN_OUTCOMES)[number];

/** CloudWatch units the points use. */
export type MetricPointUnit = 'Count' | 'Percent' | 'Milliseconds';

/** One value to publish. */
export interface MetricPoint {
  readonly name: RefreshMetric;
  readonly unit: MetricPointUnit;
  readonly value: number;
  /** Dimensions besides `service`; points with equal dimensions are published together. */
  readonly dimensions: Readonly<Record<string, string>>;
}

const point = (name: RefreshMetric, unit: MetricPointUnit, value: number, dimensions: Record<string, string> = {}): MetricPoint => ({
  name,
  unit,
  value,
  dimensions,
});

/**
 * Size change in percent against the previous published version, whose size is
 * `size - entered + exited` (members are unique). Undefined without a previous version or when it
 * was empty (any growth from nothing is not a percentage).
 */
export function driftPercent(outcome: Pick<CohortOutcome, 'size' | 'entered' | 'exited' | 'previous_version'>): number | undefined {
  if (outcome.previous_version === null) return undefined;
  const previous = outcome.size - outcome.entered + outcome.exited;
  if (previous <= 0) return undefined;
  return ((outcome.size - previous) / previous) * 100;
}

/**
 * Points of one Snapshot iteration, under a `cohort` dimension. An unchanged cohort wrote nothing
 * and computed nothing: only its (current) size is reported.
 */
export function cohortMetricPoints(outcome: CohortOutcome): MetricPoint[] {
  const dimensions = { [MetricDimension.cohort]: outcome.cohort };
  const size = point(RefreshMetric.CohortSize, 'Count', outcome.size, dimensions);
  if (outcome.status === 'unchanged') return [size];
  const count = (status: 'warn' | 'fail') => outcome.checks.filter((check) => check.status === status).length;
  const drift = driftPercent(outcome);
  return [
    size,
    point(RefreshMetric.CohortEntered, 'Count', outcome.entered, dimensions),
    point(RefreshMetric.CohortExited, 'Count', outcome.exited, dimensions),
    ...(drift === undefined ? [] : [point(RefreshMetric.CohortDrift, 'Percent', drift, dimensions)]),
    point(RefreshMetric.CohortChecksWarned, 'Count', count('warn'), dimensions),
    point(RefreshMetric.CohortChecksFailed, 'Count', count('fail'), dimensions),
  ];
}

/** Points of the Plan step. */
export function planMetricPoints(plan: Pick<WorkflowPlan, 'cohorts'>): MetricPoint[] {
  return [point(RefreshMetric.CohortsPlanned, 'Count', plan.cohorts.length)];
}

/** The point of a run skipped for overlap. */
export function skippedMetricPoints(): MetricPoint[] {
  return [point(RefreshMetric.RunsSkipped, 'Count', 1)];
}

/** How a completed run ended: held when any cohort was held, warned when a new version warned. */
export function runOutcome(cohorts: readonly CohortOutcome[]): Exclude<RunOutcome, 'failed'> {
  if (cohorts.some((c) => c.status === 'held')) return 'held';
  if (cohorts.some((c) => c.status === 'published' && c.checks.some((check) => check.status === 'warn'))) return 'warned';
  return 'clean';
}

/** Points of the Finish step: the run's duration, population, cohorts by status, and its outcome. */
export function runMetricPoints(summary: WorkflowSummary): MetricPoint[] {
  const count = (keep: (c: CohortOutcome) => boolean) => summary.cohorts.filter(keep).length;
  return [
    point(RefreshMetric.RunDuration, 'Milliseconds', summary.duration_ms),
    point(RefreshMetric.Population, 'Count', summary.population),
    point(
      RefreshMetric.CohortsPublished,
      'Count',
      count((c) => c.status === 'published'),
    ),
    point(
      RefreshMetric.CohortsWarned,
      'Count',
      count((c) => c.status === 'published' && c.checks.some((check) => check.status === 'warn')),
    ),
    point(
      RefreshMetric.CohortsHeld,
      'Count',
      count((c) => c.status === 'held'),
    ),
    point(
      RefreshMetric.CohortsUnchanged,
      'Count',
      count((c) => c.status === 'unchanged'),
    ),
    point(RefreshMetric.Runs, 'Count', 1, { [MetricDimension.outcome]: runOutcome(summary.cohorts) }),
  ];
}

/** Points of the AlertFailure step: one failed run. */
export function failedRunMetricPoints(): MetricPoint[] {
  return [point(RefreshMetric.Runs, 'Count', 1, { [MetricDimension.outcome]: 'failed' })];
}
