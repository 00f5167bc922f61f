import { z } from 'zod';
import type { CohortOutcome } from '../engine/snapshot-cohort.ts';
import type { EventFilter } from '../language/ast.ts';
import { programSchema, qualitySchema } from '../language/schema.ts';
import { governanceReportSchema } from '../governance/report-schema.ts';
import { privacySchema } from '../config/privacy-schema.ts';
import { CAUGHT_STEPS } from './state-names.ts';
import type { Delivery, RunConfig, WorkflowPlan } from './types.ts';
import type { EvaluationState } from '../ports.ts';
import { cohortIdSchema as cohortId, instantSchema as instant, refreshInputSchema } from '../refresh-request.ts';

/**
 * The inputs of every step of the refresh state machine, validated at the edge: by the Lambda
 * handlers in the cloud and by the local runner's task handlers, with the same schemas.
 */

const version = z.number().int().min(1);
const count = z.number().int().min(0);
/** Step Functions execution names: 1 to 80 letters, digits, `-` and `_`. */
const runId = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'must be 1 to 80 letters, digits, "-" or "_"');

/** Input of the Plan state: the execution input plus the execution's name and start time. */
export const planEventSchema = z.strictObject({
  request: refreshInputSchema,
  run_id: runId,
  started_at: instant,
});

export type PlanEvent = z.output<typeof planEventSchema>;

const definitionSchema = z.object({
  hash: z.string(),
  path: z.string(),
  name: z.string(),
  owner: z.string(),
  tier: z.string(),
  cadence: z.string(),
  change_reason: z.string().nullable(),
  // The language's own schemas, so no setting is dropped on the way through Step Functions.
  quality: qualitySchema.nullable(),
  program: programSchema.nullable(),
  version: version.optional(),
});

const checkResultSchema = z.object({
  name: z.string(),
  status: z.enum(['pass', 'warn', 'fail']),
  observed: z.union([z.number(), z.string(), z.null()]),
  threshold: z.union([z.number(), z.string(), z.null()]),
  message: z.string(),
});

const sourceCheckReportSchema = z.object({
  as_of: z.string(),
  days: z.object({ from: z.string(), last_day: z.string() }),
  sources: z.array(z.object({ source: z.string(), checks: z.array(checkResultSchema), status: checkResultSchema.shape.status })),
  lake: z.array(checkResultSchema),
  status: checkResultSchema.shape.status,
});

const durationSchema = z.object({ text: z.string().min(1), ms: z.number().int().positive() });
const scalarSchema = z.union([z.string(), z.number(), z.boolean()]);

/** A compiled event filter (language/ast.ts), as a plan carries the config's metrics. */
const eventFilterSchema: z.ZodType<EventFilter> = z.object({
  events: z.union([z.literal('*'), z.array(z.string().min(1)).min(1)]),
  sources: z.array(z.string().min(1)).optional(),
  where: z.array(
    z.object({
      property: z.string().min(1),
      ops: z.object({
        eq: scalarSchema.optional(),
        neq: scalarSchema.optional(),
        in: z.array(scalarSchema).optional(),
        not_in: z.array(scalarSchema).optional(),
        gt: z.number().optional(),
        gte: z.number().optional(),
        lt: z.number().optional(),
        lte: z.number().optional(),
        exists: z.boolean().optional(),
      }),
    }),
  ),
  window: z
    .discriminatedUnion('kind', [
      z.object({ kind: z.literal('within'), duration: durationSchema }),
      z.object({ kind: z.literal('before'), duration: durationSchema }),
      z.object({ kind: z.literal('between'), from: durationSchema, to: durationSchema }),
    ])
    .optional(),
});

/** What the plan carries of the project config (`$.plan.config`). */
const runConfigSchema: z.ZodType<RunConfig> = z.object({ hash: z.string().min(1), privacy: privacySchema });

/** The plan as it crosses Step Functions. */
export const workflowPlanSchema: z.ZodType<WorkflowPlan> = z.object({
  run_id: z.string().min(1),
  as_of: instant,
  trigger: z.string(),
  rationale: z.string().nullable(),
  engine: z.string(),
  query: z.string().min(1),
  statement: z.string().min(1),
  partitions: z.object({ from: z.string().optional(), to: z.string() }),
  inputs: z.array(z.object({ table: z.string(), location: z.string(), partitions: z.array(z.string()) })),
  cohorts: z.array(
    z.object({
      id: cohortId,
      column: z.string().min(1),
      definition: definitionSchema,
      unchanged: z.object({ version }).nullable(),
      version,
      depends_on: z.array(z.object({ cohort: cohortId, version })),
      sources_read: z.array(z.string()).nullable(),
    }),
  ),
  source_checks: sourceCheckReportSchema,
  governance: governanceReportSchema.optional(),
  config: runConfigSchema,
  metrics: z.object({
    columns: z.object({ activated: z.string().min(1), value: z.string().min(1) }),
    settings: z.object({ activation: eventFilterSchema, value: eventFilterSchema }),
  }),
});

const evaluationSchema: z.ZodType<EvaluationState> = z.object({ query_execution_id: z.string().min(1) });

/** Input of one Snapshot iteration. */
export const snapshotEventSchema = z.object({
  plan: workflowPlanSchema,
  cohort: cohortId,
  evaluation: evaluationSchema,
});

export type SnapshotEvent = z.output<typeof snapshotEventSchema>;

const armCountsSchema = z.object({ size: count, entered: count, exited: count });

const outcomeSchema: z.ZodType<CohortOutcome> = z.object({
  cohort: cohortId,
  status: z.enum(['published', 'held', 'unchanged']),
  version,
  size: count,
  previous_version: version.nullable(),
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
});

export type DeliverEvent = z.output<typeof deliverEventSchema>;

const location = z.string().min(1);
const deliverySchema: z.ZodType<Delivery> = z.object({
  cohort: cohortId,
  version,
  status: z.enum(['published', 'held', 'unchanged']),
  event: z.enum(['Cohort Refreshed', 'Cohort Held']).nullable(),
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

/** Input of the Finish state: the plan, the kept result, every Snapshot outcome and every delivery. */
export const finishEventSchema = z.object({
  plan: workflowPlanSchema,
  evaluation: evaluationSchema,
  snapshots: z.array(outcomeSchema),
  deliveries: z.array(deliverySchema),
  started_at: instant,
});

export type FinishEvent = z.output<typeof finishEventSchema>;

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

export type AlertFailureEvent = z.output<typeof alertFailureEventSchema>;
