import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { CohortFoundation } from '../../infra/foundation/cohort-foundation.ts';
import { CohortRefreshStack } from '../../infra/cohort-refresh-stack.ts';
import { RefreshDashboard, type RefreshDashboardProps } from '../../infra/observability/refresh-dashboard.ts';
import { readStackConfig } from '../../infra/stack-config.ts';
import { InvalidPropError } from '../../infra/common/validate-props.ts';
import { RefreshStateMachine } from '../../infra/workflow/refresh-state-machine.ts';
import { cohortMetricPoints, RUN_OUTCOMES, runMetricPoints, skippedMetricPoints } from '../../shared/workflow/run-metrics.ts';
import { refTo } from './support.ts';

interface Widget {
  type: string;
  properties: { title?: string; markdown?: string; metrics?: unknown[][]; alarms?: string[]; stacked?: boolean };
}

/** GIVEN the foundation, the refresh and its dashboard in one stack (no bundling). */
function givenDashboard(props: Partial<RefreshDashboardProps> = {}, stateMachineName?: string) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'TestStack');
  const foundation = new CohortFoundation(stack, 'CohortRefresh');
  const refresh = new RefreshStateMachine(stack, 'Refresh', { foundation, ...(stateMachineName ? { stateMachineName } : {}) });
  const dashboard = new RefreshDashboard(stack, 'Dashboard', { refresh, ...props });
  return { stack, refresh, dashboard };
}

/** A reference inside the body's Fn::Join as text: `<Ref:logicalId>` or `<GetAtt:logicalId.attribute>`. */
function referenceText(part: unknown): string {
  const { Ref: ref, 'Fn::GetAtt': getAtt } = part as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  if (ref) return `<Ref:${ref}>`;
  if (getAtt) return `<GetAtt:${getAtt.join('.')}>`;
  throw new Error(`unexpected part ${JSON.stringify(part)}`);
}

/** The dashboard body as JSON, each reference rendered by {@link referenceText}. */
function bodyOf(stack: Stack): { start?: string; widgets: Widget[] } {
  const dashboards = Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard');
  const [dashboard] = Object.values(dashboards) as { Properties: { DashboardBody: unknown } }[];
  const body = dashboard?.Properties.DashboardBody as string | { 'Fn::Join': [string, unknown[]] };
  if (typeof body === 'string') return JSON.parse(body);
  const text = body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : referenceText(part))).join(body['Fn::Join'][0]);
  return JSON.parse(text);
}

const graphs = (body: { widgets: Widget[] }) => body.widgets.filter((w) => w.type === 'metric' && w.properties.metrics);
const titled = (body: { widgets: Widget[] }, title: string) => {
  const found = graphs(body).find((w) => w.properties.title?.startsWith(title));
  if (!found) throw new Error(`no graph titled ${title}`);
  return found;
};
/** The dimensions of a graph's metric row `[namespace, name, key, value, ..., options?]`. */
const dimensionsOf = (row: unknown[]): Record<string, unknown> => {
  const pairs = row.slice(2).filter((item) => typeof item === 'string') as string[];
  return Object.fromEntries(pairs.flatMap((key, i) => (i % 2 === 0 ? [[key, pairs[i + 1]]] : [])));
};

/** The SEARCH expressions of a graph. */
const searches = (widget: Widget) =>
  (widget.properties.metrics ?? [])
    .map((row) => (row[0] as { expression?: string }).expression)
    .filter((e): e is string => e !== undefined);

const outcome = {
  cohort: 'power_users',
  status: 'published',
  version: 2,
  size: 110,
  previous_version: 1,
  entered: 20,
  exited: 10,
  checks: [],
} as const;

describe('RefreshDashboard', () => {
  let given: ReturnType<typeof givenDashboard>;
  let body: ReturnType<typeof bodyOf>;

  beforeAll(() => {
    given = givenDashboard();
    body = bodyOf(given.stack);
  });

  it('is named after the state machine and opens on the last two weeks', () => {
    Template.fromStack(given.stack).hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'cohort-refresh' });
    expect(body.start).toBe('-P14D');
  });

  it('plots every per-cohort metric a Snapshot emits, one series per cohort, under the dimensions it is published with', () => {
    // GIVEN the points of a cohort with a previous version (so drift is among them)
    const emitted = cohortMetricPoints(outcome);
    // WHEN
    const expressions = graphs(body).flatMap(searches);
    // THEN every emitted name is searched under {namespace, cohort, service} for this deployment's service
    expect(emitted.length).toBe(6);
    for (const point of emitted) {
      expect(Object.keys(point.dimensions)).toEqual(['cohort']);
      expect(expressions).toContainEqual(
        expect.stringContaining(`SEARCH('{CohortRefresh,cohort,service} MetricName="${point.name}" service="cohort-refresh"'`),
      );
    }
  });

  it('labels each cohort series with its cohort id', () => {
    const [size] = titled(body, 'Cohort size').properties.metrics ?? [];

    expect(size?.[0]).toMatchObject({ label: "${PROP('Dim.cohort')}", period: 3600 });
  });

  it('plots the run metrics Finish emits under the service dimension, runs split by every outcome', () => {
    // GIVEN
    const emitted = runMetricPoints({
      run_id: 'r',
      as_of: '2024-06-01T00:00:00Z',
      trigger: 'manual',
      tiles: { mode: 'tiles', built_days: 0, rebuilt_days: 0, reused_days: 0, raw_measures: [] },
      population: 1,
      started_at: '2024-06-01T00:00:00Z',
      finished_at: '2024-06-01T00:00:01Z',
      duration_ms: 1000,
      cohorts: [],
      deliveries: [],
      alert: null,
    });
    const plotted = graphs(body)
      .flatMap((w) => w.properties.metrics ?? [])
      .filter((row) => row[0] === 'CohortRefresh');
    // THEN every run-level name except the population is on the dashboard with exactly service = the state machine name
    const names = new Set(plotted.map((row) => row[1]));
    for (const point of emitted.filter((p) => p.name !== 'Population')) expect(names).toContain(point.name);
    for (const row of plotted.filter((r) => r[1] !== 'Runs')) expect(dimensionsOf(row)).toEqual({ service: 'cohort-refresh' });
    const runs = titled(body, 'Runs by outcome').properties.metrics ?? [];
    expect(runs.filter((r) => r[1] === 'Runs').map(dimensionsOf)).toEqual(
      RUN_OUTCOMES.map((outcome) => ({ service: 'cohort-refresh', outcome })),
    );
  });

  it('shows the runs skipped for overlap beside the runs by outcome, under the dimensions Plan emits them with', () => {
    // GIVEN the point a skipped run emits
    const [skipped] = skippedMetricPoints();
    // THEN the runs-by-outcome graph has its series with service = the state machine name only
    const runs = titled(body, 'Runs by outcome').properties.metrics ?? [];
    const series = runs.filter((r) => r[1] === skipped?.name);
    expect(series.map(dimensionsOf)).toEqual([{ service: 'cohort-refresh', ...skipped?.dimensions }]);
  });

  it('shows the state machine executions by status and its execution time', () => {
    const executions = titled(body, 'Executions').properties.metrics ?? [];
    const stateMachineArn = `<Ref:${refTo(given.refresh.stateMachine).Ref}>`;

    expect(executions.map((row) => row[1])).toEqual([
      'ExecutionsStarted',
      'ExecutionsSucceeded',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
      'ExecutionsAborted',
      'ExecutionThrottled',
    ]);
    for (const row of executions)
      expect(row.slice(0, 1).concat(row.slice(2, 4))).toEqual(['AWS/States', 'StateMachineArn', stateMachineArn]);
    expect(titled(body, 'Run duration').properties.metrics?.[0]?.slice(0, 2)).toEqual(['AWS/States', 'ExecutionTime']);
  });

  it('shows the state of the four execution alarms, the step failures and, apart from them, the Plans waiting for the tiles', () => {
    const alarms = body.widgets.find((w) => w.type === 'alarm');

    expect(alarms?.properties.alarms).toHaveLength(4);
    expect(searches(titled(body, 'Step failures'))).toEqual([
      `SEARCH('{CohortRefresh,step,service} MetricName="StepFailed" service="cohort-refresh"', 'Sum', 3600)`,
      `SEARCH('{CohortRefresh,step,service} MetricName="TilesBusy" service="cohort-refresh"', 'Sum', 3600)`,
    ]);
  });

  it('follows a renamed state machine, so two deployments in one account never share series', () => {
    const renamed = bodyOf(givenDashboard({}, 'cohort-refresh-staging').stack);

    expect(
      graphs(renamed)
        .flatMap(searches)
        .every((e) => e.includes('service="cohort-refresh-staging"')),
    ).toBe(true);
  });

  it.each<[string, Partial<RefreshDashboardProps>, string]>([
    [
      'a name with a space',
      { dashboardName: 'cohorts dashboard' },
      'dashboardName must be 1 to 255 letters, digits, "-" or "_", got "cohorts dashboard"',
    ],
    ['a period of 90 seconds', { period: Duration.seconds(90) }, 'period must be whole minutes, at least one, got 1 minute 30 seconds'],
  ])('rejects %s and shows the bad value', (_, props, message) => {
    expect(() => givenDashboard(props)).toThrow(InvalidPropError);
    expect(() => givenDashboard(props)).toThrow(message);
  });
});

describe("the stack's dashboard", () => {
  const stackWith = (context: Record<string, unknown>) => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
    return Template.fromStack(new CohortRefreshStack(app, 'CohortRefreshStack', { config: readStackConfig(app.node) }));
  };

  it('is there by default, with its name as an output', () => {
    const template = stackWith({});

    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasOutput('DashboardName', {});
  });

  const alarmArn = (alarm: unknown) => `<GetAtt:${refTo(alarm as never).Ref}.Arn>`;

  it("shows the scheduler's dropped starts beside the execution alarms, and the Slack webhook's when there is a webhook", () => {
    const plain = new CohortRefreshStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'CohortRefreshStack');
    const plainAlarms = bodyOf(plain).widgets.find((w) => w.type === 'alarm')?.properties.alarms;
    expect(plainAlarms).toHaveLength(5);
    expect(plainAlarms?.[4]).toBe(alarmArn(plain.cohortRefresh.schedules?.droppedAlarm));

    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], slackWebhookSecret: 'cohort-refresh/slack' } });
    const stack = new CohortRefreshStack(app, 'CohortRefreshStack', { config: readStackConfig(app.node) });

    const alarms = bodyOf(stack).widgets.find((w) => w.type === 'alarm')?.properties.alarms;

    expect(alarms).toHaveLength(6);
    expect(alarms?.[4]).toBe(alarmArn(stack.cohortRefresh.schedules?.droppedAlarm));
    expect(alarms?.[5]).toBe(alarmArn(stack.cohortRefresh.foundation.slackAlerts?.webhookErrorsAlarm));
  });

  it('is left out with the dashboard context value false, given as text or boolean', () => {
    stackWith({ dashboard: 'false' }).resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    stackWith({ dashboard: false }).resourceCountIs('AWS::CloudWatch::Dashboard', 0);
  });
});
