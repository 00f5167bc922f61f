import { z } from 'zod';
import type { CohortOutcome } from '../engine/snapshot-cohort.ts';
import { localStatement } from '../local/local-statement.ts';
import { deliverStep } from './deliver-step.ts';
import {
  alertFailureEventSchema,
  deliverEventSchema,
  finishEventSchema,
  planEventSchema,
  releaseTilesEventSchema,
  snapshotEventSchema,
  tilesEventSchema,
} from './events.ts';
import { LocalEvaluations } from '../local/local-evaluations.ts';
import type { LocalPorts } from '../local/local-ports.ts';
import { StateName } from './state-names.ts';
import { type AlertFailureResult, alertFailureStep, evaluateLocal, finishStep, planStep, snapshotStep } from './steps.ts';
import { tilesStep } from './tiles-step.ts';
import type { Delivery, TilesState, WorkflowPlan, WorkflowPorts, WorkflowSummary } from './types.ts';
import { parseEvent } from '../input-validation.ts';

/** What a run in process returns: its summary (the Finish state's output) and the plan it carried out. */
export interface LocalRun {
  /** The run summary, as the execution returns it in the cloud. */
  readonly summary: WorkflowSummary;
  /** The plan Plan made: the query, the cohorts with their versions, and what the guardrails decided (`governance`). */
  readonly plan: WorkflowPlan;
}

/** A run in process ended in the Failed state: a step failed, and AlertFailure alerted. */
export class RefreshFailedError extends Error {
  override readonly name = 'RefreshFailedError';

  constructor(
    readonly runId: string,
    /** The step whose failure was caught, when one was. */
    readonly step: string | undefined,
    /** The original error's name (`States.TaskFailed`, `InvalidDefinitionsError`, ...). */
    readonly error: string,
    readonly errorCause: string,
  ) {
    super(`refresh ${runId} failed${step ? ` at ${step}` : ''}: ${error}${errorCause ? `: ${errorCause}` : ''}`);
  }
}

/** What the Evaluate state's Athena integration returns, as far as the definition reads it. */
export interface EvaluateResult {
  readonly QueryExecution: {
    readonly QueryExecutionId: string;
    readonly Status: { readonly State: 'SUCCEEDED' };
    readonly Statistics: { readonly DataScannedInBytes: number };
  };
}

/**
 * The Task states of the refresh state machine, by name, as the local world runs them: each
 * validates its input with the step's schema (as the Lambda handlers do), runs the step with local
 * ports and answers plain JSON, as a value crossing Step Functions is.
 */
export interface LocalTasks {
  readonly [StateName.Plan]: (event: unknown) => Promise<{ plan: WorkflowPlan }>;
  readonly [StateName.Tiles]: (event: unknown) => Promise<TilesState>;
  /** In place of Athena: the Tiles step's statement on the local engine, its result kept under the run id. */
  readonly [StateName.Evaluate]: (event: unknown) => Promise<EvaluateResult>;
  /**
   * Locally there is no lease to give back (the state folder's run lock serializes whole runs): it
   * checks its input as the Finish function does and answers `released: false`.
   */
  readonly [StateName.ReleaseTiles]: (event: unknown) => Promise<{ released: boolean }>;
  readonly [StateName.Snapshot]: (event: unknown) => Promise<CohortOutcome>;
  readonly [StateName.Deliver]: (event: unknown) => Promise<Delivery>;
  readonly [StateName.Finish]: (event: unknown) => Promise<WorkflowSummary>;
  readonly [StateName.AlertFailure]: (event: unknown) => Promise<AlertFailureResult>;
}

/** What the Athena integration receives; the local stand-in reads the statement. */
const athenaStartSchema = z.looseObject({ QueryString: z.string().min(1) });

/** A value as it crosses Step Functions: plain JSON, nothing else. */
const wire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** The execution's ARN in the local world, where `$$.Execution.Id` points. */
export const localExecutionArn = (runId: string): string => `arn:aws:states:local-1:000000000000:execution:cohort-refresh:${runId}`;

/**
 * The local task handlers of one run (execution name `runId`): what the local runner gives the
 * interpreter in place of the Lambdas and Athena, and what {@link runRefreshSteps} calls directly.
 */
export function localTasks(local: LocalPorts, runId: string): LocalTasks {
  const evaluations = new LocalEvaluations();
  const ports: WorkflowPorts = { ...local, statement: localStatement, evaluations };
  // DuckDB does not count what it scans: Evaluate reports the sizes of the files the statement the
  // Tiles step left reads (its estimate), where Athena reports DataScannedInBytes.
  const estimates = new Map<string, number>();
  return {
    [StateName.Plan]: async (event) => wire(await planStep(parseEvent(StateName.Plan, planEventSchema, event), ports)),
    [StateName.Tiles]: async (event) => {
      const tiles = await tilesStep(parseEvent(StateName.Tiles, tilesEventSchema, event), { ...ports, ...local.tilesStep?.() });
      if (tiles.bytes_scanned?.evaluate !== undefined) estimates.set(tiles.statement, tiles.bytes_scanned.evaluate);
      return wire(tiles);
    },
    [StateName.Evaluate]: async (event) => {
      const { QueryString } = parseEvent(StateName.Evaluate, athenaStartSchema, event);
      const kept = evaluations.keep(runId, await evaluateLocal(QueryString, runId, ports.engine));
      return {
        QueryExecution: {
          QueryExecutionId: kept.query_execution_id,
          Status: { State: 'SUCCEEDED' },
          Statistics: { DataScannedInBytes: estimates.get(QueryString) ?? 0 },
        },
      };
    },
    [StateName.ReleaseTiles]: async (event) => {
      parseEvent(StateName.ReleaseTiles, releaseTilesEventSchema, event);
      return { released: false };
    },
    [StateName.Snapshot]: async (event) => wire(await snapshotStep(parseEvent(StateName.Snapshot, snapshotEventSchema, event), ports)),
    [StateName.Deliver]: async (event) => wire(await deliverStep(parseEvent(StateName.Deliver, deliverEventSchema, event), ports)),
    [StateName.Finish]: async (event) => wire(await finishStep(parseEvent(StateName.Finish, finishEventSchema, event), ports)),
    [StateName.AlertFailure]: async (event) =>
      wire(await alertFailureStep(parseEvent(StateName.AlertFailure, alertFailureEventSchema, event), ports)),
  };
}
