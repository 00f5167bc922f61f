import { afterEach, describe, expect, it, vi } from 'vitest';
import { metricTarget, publishMetricPoints } from '../../functions/commons/metric-points.ts';
import type { CohortOutcome } from '../../shared/engine/snapshot-cohort.ts';
import type { CheckResult } from '../../shared/store/manifest.ts';
import {
  cohortMetricPoints,
  driftPercent,
  failedRunMetricPoints,
  planMetricPoints,
  RefreshMetric,
  runMetricPoints,
  runOutcome,
} from '../../shared/workflow/run-metrics.ts';
import type { WorkflowSummary } from '../../shared/workflow/types.ts';

const check = (name: string, status: CheckResult['status']): CheckResult => ({
  name,
  status,
  observed: null,
  threshold: null,
  message: name,
});

const outcome = (overrides: Partial<CohortOutcome> = {}): CohortOutcome => ({
  cohort: 'power_users',
  status: 'published',
  version: 3,
  size: 110,
  previous_version: 2,
  entered: 20,
  exited: 10,
  checks: [],
  ...overrides,
});

const summary = (cohorts: CohortOutcome[]): WorkflowSummary => ({
  run_id: 'r1',
  as_of: '2024-06-01T00:00:00.000Z',
  trigger: 'schedule:daily',
  tiles: { mode: 'tiles', built_days: 0, rebuilt_days: 0, reused_days: 0, raw_measures: [] },
  population: 3041,
  started_at: '2024-06-01T00:00:00.000Z',
  finished_at: '2024-06-01T00:01:30.000Z',
  duration_ms: 90_000,
  cohorts,
  deliveries: [],
  alert: null,
});

/** The points as name -> value, for one dimension set. */
const values = (points: ReturnType<typeof cohortMetricPoints>) => Object.fromEntries(points.map((p) => [p.name, p.value]));

describe('the metric points of a Snapshot iteration', () => {
  it('report size, entered, exited, drift and check counts under the cohort dimension', () => {
    // Prepare: 110 now, 20 entered and 10 left, so the previous version held 100
    const checks = [
      check('churn', 'warn'),
      check('source.duplicates[support]', 'warn'),
      check('min_size', 'fail'),
      check('not_empty', 'pass'),
    ];
    // Act
    const points = cohortMetricPoints(outcome({ checks, status: 'held' }));
    // Assess
    expect(values(points)).toEqual({
      CohortSize: 110,
      CohortEntered: 20,
      CohortExited: 10,
      CohortDrift: 10,
      CohortChecksWarned: 2,
      CohortChecksFailed: 1,
    });
    for (const point of points) expect(point.dimensions).toEqual({ cohort: 'power_users' });
    expect(points.find((p) => p.name === RefreshMetric.CohortDrift)?.unit).toBe('Percent');
  });

  it('report only the size of an unchanged cohort, which computed nothing this run', () => {
    const points = cohortMetricPoints(outcome({ status: 'unchanged', checks: [check('churn', 'warn')] }));

    expect(values(points)).toEqual({ CohortSize: 110 });
  });

  it('leave drift out for a first version and after an empty one', () => {
    expect(values(cohortMetricPoints(outcome({ previous_version: null, size: 50, entered: 50, exited: 0 })))).not.toHaveProperty(
      'CohortDrift',
    );
    expect(driftPercent({ previous_version: 1, size: 5, entered: 5, exited: 0 })).toBeUndefined();
  });

  it('measure a shrinking cohort as negative drift', () => {
    // 100 before, 0 entered, 25 left: 75 now
    expect(driftPercent({ previous_version: 4, size: 75, entered: 0, exited: 25 })).toBe(-25);
  });
});

describe('the metric points of a run', () => {
  it('report duration, population, cohorts by status and the outcome of a finished run', () => {
    // Prepare
    const cohorts = [
      outcome({ cohort: 'a' }),
      outcome({ cohort: 'b', checks: [check('churn', 'warn')] }),
      outcome({ cohort: 'c', status: 'unchanged' }),
    ];
    // Act
    const points = runMetricPoints(summary(cohorts));
    // Assess
    const perRun = points.filter((p) => Object.keys(p.dimensions).length === 0);
    expect(values(perRun)).toEqual({
      RunDuration: 90_000,
      Population: 3041,
      CohortsPublished: 2,
      CohortsWarned: 1,
      CohortsHeld: 0,
      CohortsUnchanged: 1,
    });
    expect(points.filter((p) => p.name === RefreshMetric.Runs)).toEqual([
      { name: 'Runs', unit: 'Count', value: 1, dimensions: { outcome: 'warned' } },
    ]);
  });

  it('call a run held when any cohort was held, warned only for warnings of new versions, clean otherwise', () => {
    const warnedUnchanged = outcome({ status: 'unchanged', checks: [check('churn', 'warn')] });

    expect(runOutcome([outcome({ checks: [check('churn', 'warn')] }), outcome({ status: 'held' })])).toBe('held');
    expect(runOutcome([outcome({ checks: [check('churn', 'warn')] })])).toBe('warned');
    expect(runOutcome([outcome(), warnedUnchanged])).toBe('clean');
    expect(runOutcome([])).toBe('clean');
  });

  it('count the cohorts a plan holds and one failed run', () => {
    expect(planMetricPoints({ cohorts: [{}, {}, {}] as never })).toEqual([
      { name: 'CohortsPlanned', unit: 'Count', value: 3, dimensions: {} },
    ]);
    expect(failedRunMetricPoints()).toEqual([{ name: 'Runs', unit: 'Count', value: 1, dimensions: { outcome: 'failed' } }]);
  });
});

describe('publishing metric points', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  /** The embedded-metric-format lines Powertools prints (with POWERTOOLS_DEV it prints through console.log). */
  function capture(): () => Record<string, unknown>[] {
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    return () => log.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
  }

  it('writes one EMF line per dimension set, each with exactly service and its own dimensions', () => {
    // Prepare
    const lines = capture();
    // Act
    publishMetricPoints(runMetricPoints(summary([outcome({ status: 'held' })])), {
      namespace: 'CohortRefresh',
      service: 'cohort-refresh-test',
    });
    // Assess
    const emitted = lines();
    expect(emitted).toHaveLength(2);
    const [perRun, outcomeLine] = emitted as [Record<string, unknown>, Record<string, unknown>];
    expect(perRun).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: 'CohortRefresh',
            Dimensions: [['service']],
            Metrics: expect.arrayContaining([{ Name: 'RunDuration', Unit: 'Milliseconds' }]),
          },
        ],
      },
      service: 'cohort-refresh-test',
      RunDuration: 90_000,
      CohortsHeld: 1,
    });
    expect(outcomeLine).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Dimensions: [['service', 'outcome']], Metrics: [{ Name: 'Runs', Unit: 'Count' }] }] },
      outcome: 'held',
      Runs: 1,
    });
  });

  it("publishes a cohort's points under service and cohort", () => {
    const lines = capture();

    publishMetricPoints(cohortMetricPoints(outcome()), { namespace: 'CohortRefresh', service: 'cohort-refresh' });

    expect(lines()).toEqual([
      expect.objectContaining({
        _aws: expect.objectContaining({ CloudWatchMetrics: [expect.objectContaining({ Dimensions: [['service', 'cohort']] })] }),
        cohort: 'power_users',
        CohortSize: 110,
        CohortDrift: 10,
      }),
    ]);
  });

  it('reads namespace and service from the variables the construct sets, with its defaults', () => {
    expect(metricTarget({ POWERTOOLS_METRICS_NAMESPACE: 'Ns', POWERTOOLS_SERVICE_NAME: 'svc' })).toEqual({
      namespace: 'Ns',
      service: 'svc',
    });
    expect(metricTarget({})).toEqual({ namespace: 'CohortRefresh', service: 'cohort-refresh' });
  });
});
