import './promise-with-resolvers.ts';
import { randomUUID } from 'node:crypto';
import { type StateMachineDefinition, StateMachine } from 'aws-local-stepfunctions';
import { alertFailureEventSchema } from './events.ts';
import type { LocalPorts } from '../local/local-ports.ts';
import { type LocalRun, localExecutionArn, localTasks, RefreshFailedError } from './local-tasks.ts';
import { stepTimeoutText } from './step-limits.ts';
import { StateName, TASK_STATES, type TaskStateName } from './state-names.ts';
import type { WorkflowPlan, WorkflowSummary } from './types.ts';
import { parseEvent } from '../input-validation.ts';
import { type RefreshInput, refreshInputSchema } from '../refresh-request.ts';

export type { LocalPorts } from '../local/local-ports.ts';

/**
 * Where the local runner gets the refresh state machine's definition: the composition root hands
 * it in (the CLI and the tests pass infra/synthesized-definition.ts's `refreshStateMachineAsl`,
 * the ASL `cdk deploy` creates), so shared/ never imports infra/. Each call returns a fresh copy.
 */
export type DefinitionSource = () => Promise<StateMachineDefinition>;

/** Options of {@link runRefreshStateMachine}. */
export interface LocalRunOptions {
  /**
   * The execution's name, which is the run id.
   *
   * @default - a random UUID, as Step Functions gives an execution started without a name
   */
  readonly runId?: string;
  /**
   * Milliseconds to wait before each retry, instead of the definition's exponential backoff.
   *
   * @default - the definition's intervals
   */
  readonly retryDelayMs?: number;
}

/** A Task started after its execution had ended: in the cloud no new state starts then either. */
export class ExecutionEndedError extends Error {
  override readonly name = 'ExecutionEndedError';
}

/** The state machine's definition has a Task state the local world cannot run. */
export class UnmappedTaskError extends Error {
  override readonly name = 'UnmappedTaskError';
}

type LocalHandler = (input: unknown) => Promise<unknown>;

/** A task's answer as the interpreter takes it: plain JSON, which is all localTasks answers. */
type Json = ReturnType<typeof JSON.parse>;

/** Which step AlertFailure reports: the runner names it in its error. */
const failedStepSchema = alertFailureEventSchema.pick({ failed: true });

/** Runs work one piece at a time, in the order asked, whether earlier pieces succeed or fail. */
function oneAtATime(): <T>(work: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return (work) => {
    const run = last.then(work, work);
    last = run.catch(() => undefined);
    return run;
  };
}

/** Every Task state of a definition, nested ones (Map item processors, Parallel branches) too. */
export function taskStatesOf(definition: Pick<StateMachineDefinition, 'States'>): string[] {
  return Object.entries(definition.States).flatMap(([name, state]) => {
    const nested = [
      ...('ItemProcessor' in state && state.ItemProcessor ? [state.ItemProcessor] : []),
      ...('Iterator' in state && state.Iterator ? [state.Iterator] : []),
      ...('Branches' in state && state.Branches ? state.Branches : []),
    ];
    return [...(state.Type === 'Task' ? [name] : []), ...nested.flatMap(taskStatesOf)];
  });
}

const prepared = new WeakMap<DefinitionSource, Promise<StateMachine>>();

/**
 * The synthesized definition, checked to have a local handler for every Task state, once per
 * source. It is not validated again here: validation costs more than a run on a small lake, and
 * the definition is the CDK's, which test/workflow validates with aws-local-stepfunctions' own validator.
 */
function localStateMachine(source: DefinitionSource): Promise<StateMachine> {
  const known = prepared.get(source);
  if (known) return known;
  const machine = source()
    .then((definition) => {
      const unmapped = taskStatesOf(definition).filter((name) => !(TASK_STATES as readonly string[]).includes(name));
      if (unmapped.length > 0)
        throw new UnmappedTaskError(`no local handler for Task state(s) ${unmapped.join(', ')}: they would call AWS`);
      return new StateMachine(definition, { validationOptions: { noValidate: true } });
    })
    .catch((error: unknown) => {
      prepared.delete(source);
      throw error;
    });
  prepared.set(source, machine);
  return machine;
}

/**
 * Runs the refresh the way the cloud does: the state machine definition synthesized from the CDK
 * construct (from `definition`), executed in process by aws-local-stepfunctions, with every Task state overridden by
 * name to run its step with local ports (Athena's Evaluate by the local engine; see localTasks).
 * Retries, Catch, the Map and the failure path are the definition's own. Resolves with the run
 * summary and the plan; rejects with {@link RefreshFailedError} when the execution fails (after
 * AlertFailure has alerted).
 */
export async function runRefreshStateMachine(
  definition: DefinitionSource,
  input: RefreshInput,
  local: LocalPorts,
  options: LocalRunOptions = {},
): Promise<LocalRun> {
  const request = parseEvent('execution input', refreshInputSchema, input);
  const machine = await localStateMachine(definition);
  const runId = options.runId ?? randomUUID();
  const tasks = localTasks(local, runId);
  const seen: { plan?: WorkflowPlan; failedStep?: string } = {};
  // The Map runs Snapshot iterations concurrently, as in the cloud, where each has its own Lambda
  // and Athena query. Locally every task shares one DuckDB connection, which runs one query at a
  // time: tasks take turns.
  const engineTurn = oneAtATime();

  const handlers: Record<TaskStateName, LocalHandler> = {
    ...tasks,
    [StateName.Plan]: async (event) => {
      const output = await tasks.Plan(event);
      seen.plan = output.plan;
      return output;
    },
    [StateName.AlertFailure]: async (event) => {
      seen.failedStep = parseEvent(StateName.AlertFailure, failedStepSchema, event).failed.step;
      return tasks.AlertFailure(event);
    },
  };

  // When a Map iteration fails, the execution fails while other iterations' tasks are still
  // running, as Lambdas keep running in the cloud. The run settles only once they have finished,
  // so nothing of it is still writing when the caller continues; tasks that would start after the
  // end (aws-local-stepfunctions still starts queued Map items) do nothing, as in the cloud.
  const inFlight = new Set<Promise<unknown>>();
  let ended = false;
  const tracked = (name: string, handler: LocalHandler) => async (value: unknown) => {
    if (ended) throw new ExecutionEndedError(`${name} started after execution ${runId} ended`);
    const running = engineTurn(() => handler(value));
    inFlight.add(running);
    try {
      return (await running) as Json;
    } finally {
      inFlight.delete(running);
    }
  };
  const settle = async () => {
    ended = true;
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };

  const execution = machine.run(JSON.parse(JSON.stringify(request)), {
    overrides: {
      taskResourceLocalHandlers: Object.fromEntries(Object.entries(handlers).map(([name, handler]) => [name, tracked(name, handler)])),
      ...(options.retryDelayMs === undefined
        ? {}
        : { retryIntervalOverrides: Object.fromEntries(TASK_STATES.map((name) => [name, options.retryDelayMs as number])) }),
    },
    context: { Execution: { Id: localExecutionArn(runId), Name: runId } },
  });
  let summary: WorkflowSummary;
  try {
    summary = (await execution.result) as unknown as WorkflowSummary;
  } catch (error) {
    await settle();
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : (error as Error);
    const timedOut = cause.name === 'States.Timeout' ? stepTimeoutText(seen.failedStep) : undefined;
    throw new RefreshFailedError(runId, seen.failedStep, cause.name, timedOut ?? cause.message);
  }
  await settle();
  return { summary, plan: seen.plan as WorkflowPlan };
}
