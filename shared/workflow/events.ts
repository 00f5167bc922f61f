import { z } from 'zod';
import { checkResultSchema } from '../checks/report-schema.ts';
import { refreshPlanSchema, versionSchema } from '../engine/plan.ts';
import { governanceReportSchema } from '../governance/report-schema.ts';
import { privacySchema } from '../config/privacy-schema.ts';
import { CAUGHT_STEPS } from './state-names.ts';
import type { Describes, Wire } from '../wire-types.ts';
import type { CohortOutcome } from '../engine/snapshot-cohort.ts';
import type { EvaluationState } from '../ports.ts';
import type { Delivery, RunConfig, TilesState, WorkflowPlan } from './types.ts';
import { cohortIdSchema as cohortId, instantSchema as instant, REFRESH_MODES, refreshInputSchema } from '../refresh-request.ts';
import type { BytesScanned } from '../store/manifest.ts';

/**
 * The inputs of every step of the refresh state machine, validated at the edge: by the Lambda
 * handlers in the cloud and by the local runner's task handlers, with the same schemas.
 */

const count = z.number().int().min(0);
/** Step Functions execution names: 1 to 80 letters, digits, `-` and `_`. */
const runId = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'must be 1 to 80 letters, digits, "-" or "_"');

/** Input of the Plan state: the execution input plus the execution's name and start time. */
export const planEventSchema = z.strictObject({
  request: refreshInputSchema,
  run_id: runId,
  started_at: instant,
});

export type PlanEvent = Wire<typeof planEventSchema>;

/** What the plan carries of the project config (`$.plan.config`). */
const runConfigSchema = z.object({
  hash: z.string().min(1),
  privacy: privacySchema,
  tiles: z.object({ retention_days: z.number().int().positive().optional() }).optional(),
  events: z.object({ member_events_max: z.number().int().min(0) }).optional(),
});

/**
 * The plan as it crosses Step Functions: the plan step's `refreshPlanSchema` and what the
 * workflow adds; held equal to `WorkflowPlan` below.
 */
export const workflowPlanSchema = z.object({
  ...refreshPlanSchema.shape,
  mode: z.enum(REFRESH_MODES),
  governance: governanceReportSchema.optional(),
  config: runConfigSchema,
});

const evaluationSchema = z.object({ query_execution_id: z.string().min(1), data_scanned_bytes: count.optional() });

/** Input of the Tiles state: the plan. */
export const tilesEventSchema = z.object({ plan: workflowPlanSchema });

export type TilesEvent = Wire<typeof tilesEventSchema>;

const day = z.iso.date();
const bytesSchema = z.object({ tiles_build: count.optional(), evaluate: count.optional(), full_estimate: count.optional() });

/** What the Tiles state leaves at `$.tiles` (`TilesState`). */
export const tilesStateSchema = z.object({
  statement: z.string().min(1),
  query: z.string().min(1).optional(),
  mode: z.enum(REFRESH_MODES),
  tile_days: z.object({ from: day.optional(), to: day }).optional(),
  raw_partitions: z.array(day),
  raw_measures: z.array(z.string().min(1)),
  built_days: z.array(day),
  rebuilt_days: z.array(z.object({ day, reason: z.string().min(1) })),
  reused_days: count,
  expired_days: z.array(day).optional(),
  rollup_before: day.optional(),
  bytes_scanned: bytesSchema.optional(),
});

/** Input of one Snapshot iteration. */
export const snapshotEventSchema = z.object({
  plan: workflowPlanSchema,
  cohort: cohortId,
  evaluation: evaluationSchema,
  tiles: tilesStateSchema,
});

export type SnapshotEvent = Wire<typeof snapshotEventSchema>;

const armCountsSchema = z.object({ size: count, entered: count, exited: count });

/** One Snapshot outcome (`CohortOutcome`). */
export const outcomeSchema = z.object({
  cohort: cohortId,
  status: z.enum(['published', 'held', 'unchanged']),
  version: versionSchema,
  size: count,
  previous_version: versionSchema.nullable(),
  entered: count,
  exited: count,
  checks: z.array(checkResultSchema),
  arms: z.object({ treatment: armCountsSchema, holdout: armCountsSchema }).optional(),
});

/** Input of one Deliver iteration: one Snapshot outcome and the run it belongs to. */
export const deliverEventSchema = z.object({
  outcome: outcomeSchema,
  run_id: runId,
  /** The run's config (`$.plan.config`): its privacy settings screen the exports. Absent: the ports' settings. */
  config: runConfigSchema.optional(),
  /** This outcome's place among the run's outcomes (`$$.Map.Item.Index`). */
  index: count.optional(),
  /**
   * Every outcome's status and counts in the run's order (`$.snapshots[*]`): the member events
   * limit is per run (run-budget.ts). Absent: the limit applies to this version alone.
   */
  run_moves: z.object({ status: z.array(z.string()), entered: z.array(count), exited: z.array(count) }).optional(),
});

export type DeliverEvent = Wire<typeof deliverEventSchema>;

const location = z.string().min(1);
/** One Deliver result (`Delivery`). */
export const deliverySchema = z.object({
  cohort: cohortId,
  version: versionSchema,
  status: z.enum(['published', 'held', 'unchanged']),
  event: z.enum(['Cohort Refreshed', 'Cohort Held']).nullable(),
  member_events: count.optional(),
  exports: z
    .object({
      folder: location,
      members_csv: location,
      entered_csv: location,
      exited_csv: location,
      members_parquet: location,
      entered_parquet: location,
      exited_parquet: location,
      treatment_csv: location.optional(),
      holdout_csv: location.optional(),
      treatment_parquet: location.optional(),
      holdout_parquet: location.optional(),
      latest: location,
    })
    .nullable(),
});

// The schemas describe exactly the types the steps produce (tsc fails here when a field is added
// on either side; a field a schema left out would be dropped on the way through Step Functions).
const exact: [
  Describes<typeof workflowPlanSchema, WorkflowPlan>,
  Describes<typeof runConfigSchema, RunConfig>,
  Describes<typeof evaluationSchema, EvaluationState>,
  Describes<typeof outcomeSchema, CohortOutcome>,
  Describes<typeof deliverySchema, Delivery>,
  Describes<typeof tilesStateSchema, TilesState>,
  Describes<typeof bytesSchema, BytesScanned>,
] = [true, true, true, true, true, true, true];
void exact;

/** Input of the Finish state: the plan, the kept result, every Snapshot outcome and every delivery. */
export const finishEventSchema = z.object({
  plan: workflowPlanSchema,
  tiles: tilesStateSchema,
  evaluation: evaluationSchema,
  snapshots: z.array(outcomeSchema),
  deliveries: z.array(deliverySchema),
  started_at: instant,
});

export type FinishEvent = Wire<typeof finishEventSchema>;

/**
 * Input of the ReleaseTiles state, which runs on the Finish function: the run (the execution's
 * name) whose lease over the tile store is given back, and its plan's cohorts (`$.plan.cohorts`;
 * only their ids are read), which it snapshots until it ends. The `release_tiles` key tells the
 * Finish function which of its two states invoked it.
 */
export const releaseTilesEventSchema = z.object({
  release_tiles: z.object({ run_id: z.string().min(1), cohorts: z.array(z.looseObject({ id: z.string() })) }),
});

export type ReleaseTilesEvent = Wire<typeof releaseTilesEventSchema>;

/**
 * Input of AlertFailure: whatever the failed step received, plus the caught `error` and which step
 * `failed`. Only those two are required; what else is there depends on how far the run got, and
 * the alert must go out anyway.
 */
export const alertFailureEventSchema = z.looseObject({
  /** The error as Step Functions caught it. */
  error: z.looseObject({ Error: z.string(), Cause: z.string().nullish() }),
  /** Set by the step's `<Step>Failed` Pass state. */
  failed: z.object({ step: z.enum(CAUGHT_STEPS), execution: z.string() }),
  /** Present once Plan succeeded. */
  plan: z.looseObject({ run_id: z.string(), cohorts: z.array(z.looseObject({ id: z.string() })) }).optional(),
  /** Present once Evaluate succeeded. */
  evaluation: evaluationSchema.optional(),
  /** Present when Plan failed: the cohorts asked for, if any. */
  cohorts: z.array(z.string()).optional(),
});

export type AlertFailureEvent = Wire<typeof alertFailureEventSchema>;
