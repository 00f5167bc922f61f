import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { TILES_BUSY_ERROR, TRANSIENT_ERROR_NAMES } from '../../shared/workflow/errors.ts';
import { FUNCTION_TIMEOUT_SECONDS, TASK_TIMEOUT_MARGIN_SECONDS } from '../../shared/workflow/step-limits.ts';
import { CAUGHT_STEPS, type CaughtStep, failureStateOf, StateName } from '../../shared/workflow/state-names.ts';

/** What {@link refreshDefinition} wires together. */
export interface RefreshDefinitionProps {
  readonly functions: {
    readonly plan: lambda.IFunction;
    readonly tiles: lambda.IFunction;
    readonly snapshot: lambda.IFunction;
    readonly deliver: lambda.IFunction;
    readonly finish: lambda.IFunction;
    readonly alertFailure: lambda.IFunction;
  };
  readonly workGroupName: string;
  readonly databaseName: string;
  /** Snapshot iterations that run at once. */
  readonly snapshotConcurrency: number;
  /** Deliver iterations that run at once. */
  readonly deliveryConcurrency: number;
  /** Longest the Evaluate query may run. */
  readonly evaluationTimeout: Duration;
}

/** Errors Lambda itself raises when an invocation could not run or answer: safe to retry. */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;

/**
 * A function invocation that died (killed, out of memory, timed out) before it answered. Retried
 * only on the steps that are safe to repeat: Plan (plans the same run), Snapshot (a retry finds the
 * version the dead attempt wrote and publishes it) and Deliver (rewrites the same export and
 * announces again: at least once). Never Finish and AlertFailure, which alert.
 */
export const LAMBDA_CRASH_ERRORS = ['Runtime.ExitError', 'Runtime.Unknown', 'Sandbox.Timedout', 'Lambda.Unknown'] as const;

/** Athena refusing a query for now: throttling, too many queries at once, or its own transient failure. */
export const ATHENA_TRANSIENT_ERRORS = ['Athena.TooManyRequestsException', 'Athena.InternalServerException'] as const;

/** How Plan waits for the tile store's lease: every 30 s, 60 times (30 minutes). */
export const TILES_BUSY_RETRY = { interval: Duration.seconds(30), maxAttempts: 60 } as const;

/** Where a caught error is kept: the Fail state ends the execution with it. */
const ERROR_PATH = '$.error';

/** Where ReleaseTiles' caught error is kept: the run goes on (no step reads it; the execution history shows it). */
const RELEASE_ERROR_PATH = '$.release_tiles_error';

/** A Lambda task whose input and output are the handler's own (no invoke envelope). */
function lambdaTask(
  scope: Construct,
  id: string,
  fn: lambda.IFunction,
  options: Partial<tasks.LambdaInvokeProps> = {},
  repeatable = false,
): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, id, {
    lambdaFunction: fn,
    payloadResponseOnly: true,
    retryOnServiceExceptions: false,
    // Explicit, so the local runner (whose default is 60 s) and the cloud give a step the same time.
    taskTimeout: sfn.Timeout.duration(
      Duration.seconds(FUNCTION_TIMEOUT_SECONDS[id as keyof typeof FUNCTION_TIMEOUT_SECONDS] + TASK_TIMEOUT_MARGIN_SECONDS),
    ),
    ...options,
  });
  task.addRetry({
    errors: [...LAMBDA_SERVICE_ERRORS],
    interval: Duration.seconds(2),
    maxAttempts: 6,
    backoffRate: 2,
    maxDelay: Duration.minutes(1),
    jitterStrategy: sfn.JitterType.FULL,
  });
  task.addRetry({
    errors: [...TRANSIENT_ERROR_NAMES],
    interval: Duration.seconds(5),
    maxAttempts: 4,
    backoffRate: 2,
    maxDelay: Duration.minutes(2),
    jitterStrategy: sfn.JitterType.FULL,
  });
  if (repeatable) {
    task.addRetry({
      errors: [...LAMBDA_CRASH_ERRORS],
      interval: Duration.seconds(5),
      maxAttempts: 2,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
  }
  return task;
}

/**
 * The refresh: Plan -> Overlapping (a Choice: Skipped when Plan found the cadence's previous run still running) -> Tiles (tiles up to date, the tiled query) -> Evaluate (Athena, waits for the query) -> ReleaseTiles (the tile
 * store's lease given back; its failure goes on) -> SnapshotEach (Map: Snapshot per cohort) -> DeliverEach (Map: Deliver per outcome, exports and events) -> Finish -> Succeeded. Every other step catches States.ALL into `$.error`, goes through a
 * Pass state that records which step failed (`$.failed`), then AlertFailure (an `error` alert)
 * and Failed, which ends the execution with the original error. Only Snapshot ever moves a
 * cohort's current version, and only to a version it completely wrote; Deliver runs only once
 * every Snapshot has succeeded, and only moves an export's `latest.json` after its files.
 */
export function refreshDefinition(scope: Construct, props: RefreshDefinitionProps): sfn.IChainable {
  const plan = lambdaTask(
    scope,
    StateName.Plan,
    props.functions.plan,
    {
      payload: sfn.TaskInput.fromObject({
        request: sfn.JsonPath.entirePayload,
        run_id: sfn.JsonPath.executionName,
        started_at: sfn.JsonPath.executionStartTime,
      }),
      // No ResultPath: the result replaces the input. (An explicit "$" means the same on AWS, but
      // aws-local-stepfunctions 3 stores the result under a key named "$" instead.)
    },
    true,
  );
  // Another execution holds the tile store's lease: wait for it, every 30 s for up to 30 minutes
  // (a realtime tick lasts a few minutes), then fail and alert as on any error.
  plan.addRetry({
    errors: [TILES_BUSY_ERROR],
    interval: TILES_BUSY_RETRY.interval,
    maxAttempts: TILES_BUSY_RETRY.maxAttempts,
    backoffRate: 1,
  });

  // Brings the tiles up to date and leaves the statement Evaluate runs; safe to repeat (a tile
  // exists once its fingerprint is written, after its rows).
  const tiles = lambdaTask(
    scope,
    StateName.Tiles,
    props.functions.tiles,
    { payload: sfn.TaskInput.fromObject({ plan: sfn.JsonPath.objectAt('$.plan') }), resultPath: '$.tiles' },
    true,
  );

  const evaluate = new tasks.AthenaStartQueryExecution(scope, StateName.Evaluate, {
    integrationPattern: sfn.IntegrationPattern.RUN_JOB,
    queryString: sfn.JsonPath.stringAt('$.tiles.statement'),
    workGroup: props.workGroupName,
    queryExecutionContext: { databaseName: props.databaseName },
    // What it scanned goes into each version's lineage (bytes_scanned.evaluate) and the summary.
    resultSelector: {
      query_execution_id: sfn.JsonPath.stringAt('$.QueryExecution.QueryExecutionId'),
      data_scanned_bytes: sfn.JsonPath.numberAt('$.QueryExecution.Statistics.DataScannedInBytes'),
    },
    resultPath: '$.evaluation',
    taskTimeout: sfn.Timeout.duration(props.evaluationTimeout),
  });
  evaluate.addRetry({
    errors: [...ATHENA_TRANSIENT_ERRORS],
    interval: Duration.seconds(10),
    maxAttempts: 5,
    backoffRate: 2,
    maxDelay: Duration.minutes(5),
    jitterStrategy: sfn.JitterType.FULL,
  });

  // Gives the tile store's lease back once Evaluate's result is kept in the run's own table: nothing
  // after it touches the tiles. On the Finish function (its role may write the lease already); safe
  // to repeat. A failure does not fail the run: it goes on, and Finish (or AlertFailure) gives it back.
  const releaseTiles = lambdaTask(
    scope,
    StateName.ReleaseTiles,
    props.functions.finish,
    {
      // The plan's cohorts: the run is recorded as snapshotting them until it ends (tile-lease.ts). The
      // whole list, not `$.plan.cohorts[*].id`: a wildcard matching nothing (a plan of no cohort) fails
      // the execution in aws-local-stepfunctions, uncaught (States.Runtime).
      payload: sfn.TaskInput.fromObject({
        release_tiles: { run_id: sfn.JsonPath.executionName, cohorts: sfn.JsonPath.listAt('$.plan.cohorts') },
      }),
      resultPath: sfn.JsonPath.DISCARD,
    },
    true,
  );

  const snapshot = lambdaTask(scope, StateName.Snapshot, props.functions.snapshot, {}, true);
  const snapshotEach = new sfn.Map(scope, StateName.SnapshotEach, {
    itemsPath: '$.plan.cohorts',
    itemSelector: {
      plan: sfn.JsonPath.objectAt('$.plan'),
      cohort: sfn.JsonPath.stringAt('$$.Map.Item.Value.id'),
      evaluation: sfn.JsonPath.objectAt('$.evaluation'),
      tiles: sfn.JsonPath.objectAt('$.tiles'),
    },
    maxConcurrency: props.snapshotConcurrency,
    resultPath: '$.snapshots',
  });
  snapshotEach.itemProcessor(snapshot);

  const deliver = lambdaTask(scope, StateName.Deliver, props.functions.deliver, {}, true);
  const deliverEach = new sfn.Map(scope, StateName.DeliverEach, {
    itemsPath: '$.snapshots',
    itemSelector: {
      outcome: sfn.JsonPath.objectAt('$$.Map.Item.Value'),
      run_id: sfn.JsonPath.executionName,
      // The member events limit is per run: each iteration sees what the outcomes before it moved.
      index: sfn.JsonPath.numberAt('$$.Map.Item.Index'),
      run_moves: {
        status: sfn.JsonPath.listAt('$.snapshots[*].status'),
        entered: sfn.JsonPath.listAt('$.snapshots[*].entered'),
        exited: sfn.JsonPath.listAt('$.snapshots[*].exited'),
      },
      // The config Plan read: one run screens its exports with one set of privacy settings.
      config: sfn.JsonPath.objectAt('$.plan.config'),
    },
    maxConcurrency: props.deliveryConcurrency,
    resultPath: '$.deliveries',
  });
  deliverEach.itemProcessor(deliver);

  const finish = lambdaTask(scope, StateName.Finish, props.functions.finish, {
    payload: sfn.TaskInput.fromObject({
      plan: sfn.JsonPath.objectAt('$.plan'),
      tiles: sfn.JsonPath.objectAt('$.tiles'),
      evaluation: sfn.JsonPath.objectAt('$.evaluation'),
      snapshots: sfn.JsonPath.listAt('$.snapshots'),
      deliveries: sfn.JsonPath.listAt('$.deliveries'),
      started_at: sfn.JsonPath.executionStartTime,
    }),
    // No ResultPath: the summary is the execution's output.
  });

  const failed = new sfn.Fail(scope, StateName.Failed, { errorPath: `${ERROR_PATH}.Error`, causePath: `${ERROR_PATH}.Cause` });
  // The alert's own result is dropped so that Failed still finds the original error.
  const alertFailure = lambdaTask(scope, StateName.AlertFailure, props.functions.alertFailure, { resultPath: sfn.JsonPath.DISCARD });
  // An alert that cannot be sent must not hide the failure: the execution still fails with it.
  alertFailure.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.alert_error' });
  alertFailure.next(failed);

  const steps: Record<CaughtStep, tasks.LambdaInvoke | tasks.AthenaStartQueryExecution | sfn.Map> = {
    [StateName.Plan]: plan,
    [StateName.Tiles]: tiles,
    [StateName.Evaluate]: evaluate,
    [StateName.SnapshotEach]: snapshotEach,
    [StateName.DeliverEach]: deliverEach,
    [StateName.Finish]: finish,
  };
  for (const step of CAUGHT_STEPS) {
    const record = new sfn.Pass(scope, failureStateOf(step), {
      comment: `Records that ${step} failed`,
      parameters: { step, execution: sfn.JsonPath.executionId },
      resultPath: '$.failed',
    });
    record.next(alertFailure);
    steps[step].addCatch(record, { errors: [sfn.Errors.ALL], resultPath: ERROR_PATH });
  }

  releaseTiles.addCatch(snapshotEach, { errors: [sfn.Errors.ALL], resultPath: RELEASE_ERROR_PATH });

  // A scheduled run whose cadence's previous run still runs ends here (Plan returned `skipped`).
  const overlapping = new sfn.Choice(scope, StateName.Overlapping)
    .when(
      sfn.Condition.isPresent('$.skipped'),
      new sfn.Succeed(scope, StateName.Skipped, { comment: 'An earlier run of this cadence still runs, or another holds the tiles' }),
    )
    .afterwards({ includeOtherwise: true });
  return plan
    .next(overlapping)
    .next(tiles)
    .next(evaluate)
    .next(releaseTiles)
    .next(snapshotEach)
    .next(deliverEach)
    .next(finish)
    .next(new sfn.Succeed(scope, StateName.Succeeded));
}
