import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import { CohortRefreshStack } from '../../infra/cohort-refresh-stack.ts';
import { ATHENA_TRANSIENT_ERRORS, LAMBDA_CRASH_ERRORS, LAMBDA_SERVICE_ERRORS } from '../../infra/workflow/refresh-definition.ts';
import { TILES_BUSY_ERROR, TilesBusyError, TRANSIENT_ERROR_NAMES } from '../../shared/workflow/errors.ts';
import { failureAlert } from '../../shared/workflow/run-alert.ts';
import { FUNCTION_TIMEOUT_SECONDS, TASK_TIMEOUT_MARGIN_SECONDS } from '../../shared/workflow/step-limits.ts';
import { taskStatesOf } from '../../shared/workflow/local-runner.ts';
import { aslOf, refreshStateMachineAsl } from '../../infra/synthesized-definition.ts';
import { CAUGHT_STEPS, failureStateOf, StateName, TASK_STATES } from '../../shared/workflow/state-names.ts';

type State = Record<string, unknown> & { Type: string };
interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
}
interface Catcher {
  ErrorEquals: string[];
  Next: string;
  ResultPath?: string;
}

let asl: StateMachineDefinition;
const state = (name: string, within: { States: Record<string, unknown> } = asl): State => {
  const found = within.States[name] as State | undefined;
  if (!found) throw new Error(`no state ${name}`);
  return found;
};
type Processor = { StartAt: string; States: Record<string, unknown> };
const snapshotProcessor = () => state(StateName.SnapshotEach).ItemProcessor as Processor;
const deliverProcessor = () => state(StateName.DeliverEach).ItemProcessor as Processor;
/** A Task state wherever it is: at the top, or inside its Map. */
const task = (name: string): State =>
  name === StateName.Snapshot
    ? state(name, snapshotProcessor())
    : name === StateName.Deliver
      ? state(name, deliverProcessor())
      : state(name);
const retriersOf = (s: State) => (s.Retry ?? []) as Retrier[];
/** A value as it crosses Step Functions: plain JSON. */
type Json = ReturnType<typeof JSON.parse>;

/**
 * Runs the synthesized definition as execution `name`, each Task state answered by `answers` (any
 * other one fails the test), retries after `retryIntervalOverrides` ms; its result and the tasks run.
 */
async function runAnswered(
  answers: Record<string, (input: Json) => Json>,
  input: Json,
  name: string,
  retryIntervalOverrides: Record<string, number> = {},
): Promise<{ result: unknown; ran: string[] }> {
  const definition = await refreshStateMachineAsl();
  const ran: string[] = [];
  const machine = new StateMachine(definition, { validationOptions: { checkArn: false } });
  const overrides = Object.fromEntries(
    taskStatesOf(definition).map((task) => [
      task,
      async (given: Json) => {
        ran.push(task);
        const answer = answers[task];
        if (!answer) throw new Error(`${task} must not run`);
        return answer(given);
      },
    ]),
  );
  const execution = machine.run(input, {
    overrides: { taskResourceLocalHandlers: overrides, retryIntervalOverrides },
    context: { Execution: { Id: `arn:aws:states:eu-west-1:123456789012:execution:cohort-refresh:${name}`, Name: name } },
  });
  return { result: await execution.result, ran };
}
const catchersOf = (s: State) => (s.Catch ?? []) as Catcher[];

describe('the refresh state machine definition', () => {
  beforeAll(async () => {
    asl = await refreshStateMachineAsl();
  });

  it('runs Plan, Tiles, Evaluate, ReleaseTiles, SnapshotEach, DeliverEach and Finish in that order, then succeeds', () => {
    expect(asl.StartAt).toBe(StateName.Plan);
    expect(state(StateName.Plan).Next).toBe(StateName.Overlapping);
    expect(state(StateName.Overlapping)).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.skipped', IsPresent: true, Next: StateName.Skipped }],
      Default: StateName.Tiles,
    });
    expect(state(StateName.Skipped).Type).toBe('Succeed');
    expect(state(StateName.Tiles).Next).toBe(StateName.Evaluate);
    expect(state(StateName.Evaluate).Next).toBe(StateName.ReleaseTiles);
    expect(state(StateName.ReleaseTiles).Next).toBe(StateName.SnapshotEach);
    expect(state(StateName.SnapshotEach).Next).toBe(StateName.DeliverEach);
    expect(state(StateName.DeliverEach).Next).toBe(StateName.Finish);
    expect(state(StateName.Finish).Next).toBe(StateName.Succeeded);
    expect(state(StateName.Succeeded).Type).toBe('Succeed');
    expect(Object.keys(asl.States).sort()).toEqual(
      [
        ...Object.values(StateName).filter((n) => n !== StateName.Snapshot && n !== StateName.Deliver),
        ...CAUGHT_STEPS.map(failureStateOf),
      ].sort(),
    );
  });

  it('ends a run that Plan skipped (an earlier run of its cadence still runs) in Skipped, running no other step', async () => {
    // GIVEN a Plan that finds the cadence's previous run still running, and every other task failing the test
    const skipped = { skipped: { reason: 'overlap', cadence: 'realtime', running: 'earlier-run' } };
    // WHEN the schedule starts it
    const { result, ran } = await runAnswered(
      { [StateName.Plan]: () => skipped },
      { trigger: 'schedule:realtime', cadence: 'realtime' },
      'late-run',
    );
    // THEN it succeeds with Plan's answer, having run Plan only
    expect(result).toEqual(skipped);
    expect(ran).toEqual([StateName.Plan]);
  });

  it('evaluates with the native Athena integration, waiting for the query, in the workgroup and database', () => {
    const evaluate = state(StateName.Evaluate);

    expect(evaluate).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::athena:startQueryExecution.sync',
      Parameters: {
        'QueryString.$': '$.tiles.statement',
        WorkGroup: 'cohort-refresh',
        QueryExecutionContext: { Database: 'cohort_refresh' },
      },
      // What Athena scanned rides along into the lineage and the summary.
      ResultSelector: {
        'query_execution_id.$': '$.QueryExecution.QueryExecutionId',
        'data_scanned_bytes.$': '$.QueryExecution.Statistics.DataScannedInBytes',
      },
      ResultPath: '$.evaluation',
      TimeoutSeconds: 3600,
    });
  });

  it('maps Snapshot over the planned cohorts, a few at a time, with the plan, the evaluation and what Tiles read', () => {
    const each = state(StateName.SnapshotEach);
    const processor = snapshotProcessor();

    expect(each).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.plan.cohorts',
      MaxConcurrency: 4,
      ItemSelector: { 'plan.$': '$.plan', 'cohort.$': '$$.Map.Item.Value.id', 'evaluation.$': '$.evaluation', 'tiles.$': '$.tiles' },
      ResultPath: '$.snapshots',
    });
    expect(processor.StartAt).toBe(StateName.Snapshot);
    expect(Object.keys(processor.States)).toEqual([StateName.Snapshot]);
    expect(state(StateName.Snapshot, processor)).toMatchObject({ Type: 'Task', End: true });
  });

  it('maps Deliver over the Snapshot outcomes, each with the run id and the config Plan read, once every Snapshot succeeded', () => {
    const each = state(StateName.DeliverEach);
    const processor = deliverProcessor();

    expect(each).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.snapshots',
      MaxConcurrency: 8,
      ItemSelector: { 'outcome.$': '$$.Map.Item.Value', 'run_id.$': '$$.Execution.Name', 'config.$': '$.plan.config' },
      ResultPath: '$.deliveries',
    });
    expect(Object.keys(processor.States)).toEqual([StateName.Deliver]);
    expect(state(StateName.Deliver, processor)).toMatchObject({ Type: 'Task', End: true });
  });

  it('passes Plan the execution input, name and start time, Tiles the plan, and Finish what it summarises', () => {
    expect(state(StateName.Plan).Parameters).toEqual({
      'request.$': '$',
      'run_id.$': '$$.Execution.Name',
      'started_at.$': '$$.Execution.StartTime',
    });
    expect(state(StateName.Tiles).Parameters).toEqual({ 'plan.$': '$.plan' });
    expect(state(StateName.Tiles).ResultPath).toBe('$.tiles');
    expect(state(StateName.Finish).Parameters).toEqual({
      'plan.$': '$.plan',
      'tiles.$': '$.tiles',
      'evaluation.$': '$.evaluation',
      'snapshots.$': '$.snapshots',
      'deliveries.$': '$.deliveries',
      'started_at.$': '$$.Execution.StartTime',
    });
  });

  it.each(TASK_STATES.filter((name) => name !== StateName.Evaluate))(
    'retries Lambda task %s on Lambda service errors and our transient errors, with exponential backoff',
    (name) => {
      const retriers = retriersOf(task(name));

      expect(task(name).Resource).toMatch(/^arn:aws:lambda:/);
      // A function that died before answering is retried only where a step is safe to repeat.
      const repeatable: string[] = [StateName.Plan, StateName.Tiles, StateName.ReleaseTiles, StateName.Snapshot, StateName.Deliver];
      expect(retriers.map((r) => r.ErrorEquals)).toEqual([
        [...LAMBDA_SERVICE_ERRORS],
        [...TRANSIENT_ERROR_NAMES],
        ...(repeatable.includes(name) ? [[...LAMBDA_CRASH_ERRORS]] : []),
        // Plan alone waits for the tile store's lease (see the next test).
        ...(name === StateName.Plan ? [[TILES_BUSY_ERROR]] : []),
      ]);
      for (const retrier of retriers.filter((r) => !r.ErrorEquals.includes(TILES_BUSY_ERROR))) {
        expect(retrier.BackoffRate).toBe(2);
        expect(retrier.MaxAttempts).toBeGreaterThan(1);
        expect(retrier.ErrorEquals).not.toContain('States.ALL');
      }
    },
  );

  it('retries Plan while another execution holds the tile store’s lease, every 30 s for 30 minutes, and then goes on', async () => {
    expect(retriersOf(state(StateName.Plan)).find((r) => r.ErrorEquals.includes(TILES_BUSY_ERROR))).toEqual({
      ErrorEquals: [TILES_BUSY_ERROR],
      IntervalSeconds: 30,
      MaxAttempts: 60,
      BackoffRate: 1,
    });
    // GIVEN a Plan that finds the lease held twice, then plans nothing (skipped), and every other task failing the test
    const definition = await refreshStateMachineAsl();
    const skipped = { skipped: { reason: 'no-cohorts', cadence: 'daily' } };
    let plans = 0;
    const machine = new StateMachine(definition, { validationOptions: { checkArn: false } });
    const overrides = Object.fromEntries(
      taskStatesOf(definition).map((name) => [
        name,
        async () => {
          if (name !== StateName.Plan) throw new Error(`${name} must not run`);
          plans++;
          if (plans <= 2) throw new TilesBusyError('tick');
          return skipped;
        },
      ]),
    );
    // WHEN a daily run starts (the retry's pause shortened to nothing)
    const execution = machine.run(
      { trigger: 'schedule:daily', cadence: 'daily' },
      {
        overrides: { taskResourceLocalHandlers: overrides, retryIntervalOverrides: { [StateName.Plan]: 0 } },
        context: { Execution: { Id: 'arn:aws:states:eu-west-1:123456789012:execution:cohort-refresh:daily-run', Name: 'daily-run' } },
      },
    );
    // THEN Plan ran three times and the execution went on with its answer
    expect(await execution.result).toEqual(skipped);
    expect(plans).toBe(3);
  });

  it.each(TASK_STATES.filter((name) => name !== StateName.Evaluate))(
    'gives Lambda task %s its function timeout plus a margin, so a local run has the same limit, and names it when it is hit',
    (name) => {
      const seconds = FUNCTION_TIMEOUT_SECONDS[name as keyof typeof FUNCTION_TIMEOUT_SECONDS] + TASK_TIMEOUT_MARGIN_SECONDS;

      expect(task(name).TimeoutSeconds).toBe(seconds);
      const alert = failureAlert({ error: { Error: 'States.Timeout', Cause: null }, failed: { step: StateName.Plan, execution: 'x' } });
      expect(alert.body).toContain(`Plan ran longer than its limit of ${FUNCTION_TIMEOUT_SECONDS.Plan + TASK_TIMEOUT_MARGIN_SECONDS} s`);
    },
  );

  it('gives the tile store’s lease back right after Evaluate on the Finish function, and goes on to SnapshotEach when that fails', async () => {
    const release = state(StateName.ReleaseTiles);
    expect(release).toMatchObject({
      Type: 'Task',
      Resource: state(StateName.Finish).Resource,
      Parameters: { release_tiles: { 'run_id.$': '$$.Execution.Name', 'cohorts.$': '$.plan.cohorts' } },
      ResultPath: null,
    });
    expect(catchersOf(release)).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.release_tiles_error', Next: StateName.SnapshotEach },
    ]);
    // GIVEN a run of two cohorts whose ReleaseTiles fails every attempt (retries included)
    const released: Json[] = [];
    const outcome = (cohort: string) => ({ cohort, status: 'unchanged', entered: 0, exited: 0 });
    const answers: Record<string, (input: Json) => Json> = {
      [StateName.Plan]: () => ({ plan: { run_id: 'daily-run', cohorts: [{ id: 'payers' }, { id: 'buyers' }], config: {} } }),
      [StateName.Tiles]: () => ({ statement: 'SELECT 1' }),
      [StateName.Evaluate]: () => ({ QueryExecution: { QueryExecutionId: 'q', Statistics: { DataScannedInBytes: 0 } } }),
      [StateName.ReleaseTiles]: (input) => {
        released.push(input);
        throw Object.assign(new Error('S3 unavailable'), { name: 'TransientError' });
      },
      [StateName.Snapshot]: (input) => outcome((input as { cohort: string }).cohort),
      [StateName.Deliver]: () => ({ delivered: true }),
      [StateName.Finish]: () => ({ finished: true }),
    };
    // WHEN it runs (the retries' pauses shortened to nothing)
    const { result, ran } = await runAnswered(answers, { trigger: 'schedule:daily', cadence: 'daily' }, 'daily-run', {
      [StateName.ReleaseTiles]: 0,
    });
    // THEN ReleaseTiles was given the run and its plan's cohorts (the run is recorded as snapshotting them)
    expect(released[0]).toEqual({ release_tiles: { run_id: 'daily-run', cohorts: [{ id: 'payers' }, { id: 'buyers' }] } });
    // ...and it still succeeds through Finish (which gives the lease back), having retried ReleaseTiles and alerted nothing
    expect(result).toEqual({ finished: true });
    expect(ran.filter((name) => name === StateName.ReleaseTiles).length).toBeGreaterThan(1);
    expect(ran).not.toContain(StateName.AlertFailure);
    expect(ran.at(-1)).toBe(StateName.Finish);
  });

  it('retries the Athena task on throttling only', () => {
    expect(retriersOf(state(StateName.Evaluate))).toEqual([
      expect.objectContaining({ ErrorEquals: [...ATHENA_TRANSIENT_ERRORS], BackoffRate: 2 }),
    ]);
  });

  it.each(CAUGHT_STEPS)('catches every error of %s into $.error, records the step and alerts', (step) => {
    const record = state(failureStateOf(step));

    expect(catchersOf(state(step))).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: failureStateOf(step) }]);
    expect(record).toMatchObject({
      Type: 'Pass',
      Parameters: { step, 'execution.$': '$$.Execution.Id' },
      ResultPath: '$.failed',
      Next: StateName.AlertFailure,
    });
  });

  it('alerts, keeps the error, and fails with it even when the alert cannot be sent', () => {
    const alert = state(StateName.AlertFailure);

    expect(alert).toMatchObject({ Type: 'Task', ResultPath: null, Next: StateName.Failed });
    expect(catchersOf(alert)).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.alert_error', Next: StateName.Failed }]);
    expect(state(StateName.Failed)).toEqual({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
  });

  it('has a Catch on every step outside the failure path, and a Retry on every task', () => {
    const tasks = taskStatesOf(asl);
    const outer = Object.entries(asl.States) as [string, State][];

    expect(tasks.sort()).toEqual([...TASK_STATES].sort());
    for (const [name, s] of outer) {
      if (s.Type === 'Task' || s.Type === 'Map') expect(catchersOf(s), name).not.toEqual([]);
    }
    for (const name of tasks) expect(retriersOf(task(name)), name).not.toEqual([]);
  });

  it('passes aws-local-stepfunctions validation (paths included), ARNs aside', async () => {
    // A copy: the validator writes defaults into the definition it is given.
    const definition = await refreshStateMachineAsl();

    expect(() => new StateMachine(definition, { validationOptions: { checkArn: false } })).not.toThrow();
  });

  it('is the definition in the synthesized template', () => {
    // GIVEN the deployable stack, as cdk synth builds it (without bundling)
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new CohortRefreshStack(app, 'CohortRefreshStack', { config: { alertEmails: [] } });
    // WHEN
    const machines = Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine');
    // THEN
    expect(Object.values(machines)).toHaveLength(1);
    expect(aslOf(Object.values(machines)[0]?.Properties.DefinitionString)).toEqual(asl);
  });
});
