import { randomUUID } from 'node:crypto';
import type { CohortOutcome } from '../engine/snapshot-cohort.ts';
import { type RefreshInput, refreshInputSchema } from '../refresh-request.ts';
import type { LocalPorts } from '../local/local-ports.ts';
import { type LocalRun, localExecutionArn, localTasks, RefreshFailedError } from './local-tasks.ts';
import { type CaughtStep, StateName } from './state-names.ts';
import type { Delivery, TilesState, WorkflowPlan } from './types.ts';
import type { EvaluationState } from '../ports.ts';
import { parseEvent } from '../input-validation.ts';

/** Options of {@link runRefreshSteps}. */
export interface RunStepsOptions {
  /** The run id (the execution's name in the state machine). @default - a random UUID */
  readonly runId?: string;
}

/** What the state holds between steps, as the definition's paths name it. */
interface RunState {
  plan?: WorkflowPlan;
  tiles?: TilesState;
  evaluation?: EvaluationState;
  snapshots?: CohortOutcome[];
  deliveries?: Delivery[];
}

/**
 * The refresh state machine's steps composed in process, without the interpreter: Plan, Tiles,
 * Evaluate (the Tiles step's statement on the local engine, as the local runner runs it), ReleaseTiles, Snapshot for each
 * planned cohort in plan order, Deliver for each outcome, then Finish, each given the input the
 * definition builds for it. When a step fails, AlertFailure gets what the state held, as the
 * definition's Catch gives it, and the run rejects with {@link RefreshFailedError}. The task
 * handlers are the local runner's (localTasks), so this runs the step code that ships; what it
 * leaves out is the interpreter's: retries, timeouts and concurrent Map iterations.
 *
 * The benchmark times it, tests of what the steps do run it, and the state machine's tests check
 * that the synthesized definition composes the steps the same way.
 */
export async function runRefreshSteps(input: RefreshInput, local: LocalPorts, options: RunStepsOptions = {}): Promise<LocalRun> {
  const request = parseEvent('execution input', refreshInputSchema, input);
  const runId = options.runId ?? randomUUID();
  const tasks = localTasks(local, runId);
  const started_at = new Date().toISOString();
  const state: RunState = {};
  let step: CaughtStep = StateName.Plan;
  try {
    const { plan } = await tasks.Plan({ request, run_id: runId, started_at });
    state.plan = plan;
    step = StateName.Tiles;
    const tiles = await tasks.Tiles({ plan });
    state.tiles = tiles;
    step = StateName.Evaluate;
    const evaluated = await tasks.Evaluate({ QueryString: tiles.statement });
    const evaluation = {
      query_execution_id: evaluated.QueryExecution.QueryExecutionId,
      data_scanned_bytes: evaluated.QueryExecution.Statistics.DataScannedInBytes,
    };
    state.evaluation = evaluation;
    // As the definition does: a lease that could not be given back here is given back by Finish.
    await tasks.ReleaseTiles({ release_tiles: { run_id: runId, cohorts: plan.cohorts } }).catch(() => undefined);
    step = StateName.SnapshotEach;
    const snapshots: CohortOutcome[] = [];
    for (const cohort of plan.cohorts) snapshots.push(await tasks.Snapshot({ plan, cohort: cohort.id, evaluation, tiles }));
    state.snapshots = snapshots;
    step = StateName.DeliverEach;
    const deliveries: Delivery[] = [];
    for (const outcome of snapshots) deliveries.push(await tasks.Deliver({ outcome, run_id: runId, config: plan.config }));
    state.deliveries = deliveries;
    step = StateName.Finish;
    const summary = await tasks.Finish({ plan, tiles, evaluation, snapshots, deliveries, started_at });
    return { summary, plan };
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    // Before Plan succeeds the state is the execution input; after, Plan's output replaced it.
    const held = state.plan ? state : request;
    const failed = { ...held, error: { Error: name, Cause: message }, failed: { step, execution: localExecutionArn(runId) } };
    // An alert that cannot be sent does not hide the failure: the run still fails with it.
    await tasks.AlertFailure(failed).catch(() => undefined);
    throw new RefreshFailedError(runId, step, name, message);
  }
}
