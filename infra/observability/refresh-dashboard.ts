import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { MetricDimension, RefreshMetric, RUN_OUTCOMES, StepMetric } from '../../shared/workflow/run-metrics.ts';
import { InvalidPropError } from '../common/validate-props.ts';
import type { RefreshStateMachine } from '../workflow/refresh-state-machine.ts';

/** Properties of {@link RefreshDashboard}. */
export interface RefreshDashboardProps {
  /** The refresh whose executions, alarms and Powertools metrics the dashboard shows. */
  readonly refresh: RefreshStateMachine;

  /**
   * Name of the dashboard; unique per account. 1 to 255 letters, digits, `-` and `_`.
   *
   * @default - the state machine's name (the metrics' `service` dimension)
   */
  readonly dashboardName?: string;

  /**
   * Time range the dashboard opens with. Cadences run from hourly to quarterly: two weeks shows
   * several runs of the daily and weekly cohorts.
   *
   * @default Duration.days(14)
   */
  readonly defaultInterval?: Duration;

  /**
   * More alarms to show beside the four execution alarms, e.g. the Slack webhook's.
   *
   * @default - none
   */
  readonly alarms?: readonly cloudwatch.IAlarm[];

  /**
   * Period every graph aggregates over. An hour keeps one point per run for every cadence.
   *
   * @default Duration.hours(1)
   */
  readonly period?: Duration;
}

const DASHBOARD_NAME = /^[A-Za-z0-9_-]{1,255}$/;

/**
 * A CloudWatch dashboard of the refresh: executions and their duration, the alarms, then per
 * cohort size, drift, entered and exited and check outcomes, and per run the cohorts by status and
 * the run outcome (with the runs skipped for overlap). Per-cohort graphs use SEARCH expressions over the `cohort` dimension, so a
 * cohort added by uploading a definition appears on its first run without a deployment.
 */
export class RefreshDashboard extends Construct {
  /** The dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: RefreshDashboardProps) {
    super(scope, id);
    const { stateMachine, alarms } = props.refresh;
    const { namespace, service } = props.refresh.metricsTarget;
    const dashboardName = props.dashboardName ?? service;
    const period = props.period ?? Duration.hours(1);
    if (!Token.isUnresolved(dashboardName) && !DASHBOARD_NAME.test(dashboardName)) {
      throw new InvalidPropError(`dashboardName must be 1 to 255 letters, digits, "-" or "_", got ${JSON.stringify(dashboardName)}`);
    }
    if (period.toSeconds() < 60 || period.toSeconds() % 60 !== 0) {
      throw new InvalidPropError(`period must be whole minutes, at least one, got ${period.toHumanString()}`);
    }

    /** One run-level metric (dimension `service` only) or one with extra dimensions. */
    const runMetric = (metricName: RefreshMetric, statistic: string, label: string, dimensions: Record<string, string> = {}) =>
      new cloudwatch.Metric({ namespace, metricName, dimensionsMap: { service, ...dimensions }, statistic, period, label });
    /** Every series of a metric with one more dimension than `service`, labelled by that dimension's value. */
    const searchBy = (dimension: string, metricName: string, statistic: string, labelPrefix = '') =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${namespace},${dimension},service} MetricName="${metricName}" service="${service}"', '${statistic}', ${period.toSeconds()})`,
        usingMetrics: {},
        label: `${labelPrefix}\${PROP('Dim.${dimension}')}`,
        period,
      });
    const perCohort = (metricName: RefreshMetric, statistic: string) => searchBy(MetricDimension.cohort, metricName, statistic);
    const graph = (title: string, left: cloudwatch.IMetric[], options: Partial<cloudwatch.GraphWidgetProps> = {}) =>
      new cloudwatch.GraphWidget({ title, left, width: 12, height: 6, period, ...options });
    const every = { period, statistic: cloudwatch.Stats.SUM };

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName,
      defaultInterval: props.defaultInterval ?? Duration.days(14),
      widgets: [
        [
          new cloudwatch.TextWidget({
            markdown: [
              '# Cohort refresh',
              [
                `Executions of the state machine, then the Powertools metrics of its steps (namespace \`${namespace}\`, \`service\` = \`${service}\`):`,
                'per cohort one point per run (size of the newest version, held ones included; drift is the size change against the previous published version, in percent), and per run its duration, cohorts by status and outcome.',
              ].join(' '),
            ].join('\n'),
            width: 24,
            height: 2,
          }),
        ],
        [
          graph(
            'Executions',
            [
              stateMachine.metricStarted({ ...every, label: 'started' }),
              stateMachine.metricSucceeded({ ...every, label: 'succeeded' }),
              stateMachine.metricFailed({ ...every, label: 'failed' }),
              stateMachine.metricTimedOut({ ...every, label: 'timed out' }),
              stateMachine.metricAborted({ ...every, label: 'aborted' }),
              stateMachine.metricThrottled({ ...every, label: 'throttled' }),
            ],
            { stacked: true, view: cloudwatch.GraphWidgetView.BAR },
          ),
          graph('Run duration (ms)', [
            stateMachine.metricTime({ period, statistic: cloudwatch.Stats.MAXIMUM, label: 'execution, max' }),
            runMetric(RefreshMetric.RunDuration, cloudwatch.Stats.MAXIMUM, 'start to Finish, max'),
          ]),
        ],
        [
          graph('Cohort size (members)', [perCohort(RefreshMetric.CohortSize, cloudwatch.Stats.MAXIMUM)], {
            legendPosition: cloudwatch.LegendPosition.RIGHT,
          }),
          graph('Drift: size change against the previous version (%)', [perCohort(RefreshMetric.CohortDrift, cloudwatch.Stats.AVERAGE)], {
            legendPosition: cloudwatch.LegendPosition.RIGHT,
            leftAnnotations: [{ value: 0, label: 'no change', color: cloudwatch.Color.GREY }],
          }),
        ],
        [
          graph('Entered (members)', [perCohort(RefreshMetric.CohortEntered, cloudwatch.Stats.SUM)], {
            legendPosition: cloudwatch.LegendPosition.RIGHT,
          }),
          graph('Exited (members)', [perCohort(RefreshMetric.CohortExited, cloudwatch.Stats.SUM)], {
            legendPosition: cloudwatch.LegendPosition.RIGHT,
          }),
        ],
        [
          graph('Checks that failed (version held)', [perCohort(RefreshMetric.CohortChecksFailed, cloudwatch.Stats.SUM)], {
            legendPosition: cloudwatch.LegendPosition.RIGHT,
            view: cloudwatch.GraphWidgetView.BAR,
          }),
          graph('Checks that warned', [perCohort(RefreshMetric.CohortChecksWarned, cloudwatch.Stats.SUM)], {
            legendPosition: cloudwatch.LegendPosition.RIGHT,
            view: cloudwatch.GraphWidgetView.BAR,
          }),
        ],
        [
          graph(
            'Runs by outcome',
            [
              ...RUN_OUTCOMES.map((outcome) =>
                runMetric(RefreshMetric.Runs, cloudwatch.Stats.SUM, outcome, { [MetricDimension.outcome]: outcome }),
              ),
              // A tick that found the previous run of its cadence still going (a realtime run longer than its rate).
              runMetric(RefreshMetric.RunsSkipped, cloudwatch.Stats.SUM, 'skipped (overlap)'),
            ],
            {
              stacked: true,
              view: cloudwatch.GraphWidgetView.BAR,
            },
          ),
          graph('Cohorts per run by status', [
            runMetric(RefreshMetric.CohortsPublished, cloudwatch.Stats.SUM, 'published'),
            runMetric(RefreshMetric.CohortsWarned, cloudwatch.Stats.SUM, 'published with warnings'),
            runMetric(RefreshMetric.CohortsHeld, cloudwatch.Stats.SUM, 'held'),
            runMetric(RefreshMetric.CohortsUnchanged, cloudwatch.Stats.SUM, 'unchanged'),
          ]),
        ],
        [
          graph(
            'Step failures (Lambda steps, before Retry), and Plans waiting for the tiles',
            [
              searchBy(MetricDimension.step, StepMetric.StepFailed, cloudwatch.Stats.SUM),
              // A Plan that found the tile store's lease held: it waits (retried), it did not fail.
              searchBy(MetricDimension.step, StepMetric.TilesBusy, cloudwatch.Stats.SUM, 'waiting for the tiles: '),
            ],
            {
              view: cloudwatch.GraphWidgetView.BAR,
            },
          ),
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            alarms: [alarms.failed, alarms.timedOut, alarms.throttled, alarms.aborted, ...(props.alarms ?? [])],
            width: 12,
            height: 6,
          }),
        ],
      ],
    });
  }
}
