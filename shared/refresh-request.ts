import { z } from 'zod';
import { CADENCES, type Cadence, type CohortDefinition } from './language/ast.ts';
import { cohortGraph } from './language/graph.ts';
import { COHORT_ID } from './language/schema.ts';

/**
 * What starts a refresh: the execution input of the refresh state machine, the names of its
 * triggers and the port that starts one. Schedules, uploads, approvals and `cohorts run` write
 * it; the workflow reads it.
 */

/** The trigger of a refresh started by hand (`cohorts run`, a console execution without one). */
export const MANUAL_TRIGGER = 'manual';

/** The trigger of a refresh started by an accepted upload (SPEC 5). */
export const DEFINITION_CHANGE_TRIGGER = 'definition-change';

/** The trigger of a refresh started by an accepted list upload (the cohorts reading that list). */
export const LIST_CHANGE_TRIGGER = 'list-change';

/** The trigger of a scheduled refresh of one cadence: `schedule:daily`. */
export const scheduleTrigger = (cadence: Cadence): string => `schedule:${cadence}`;

/** An ISO-8601 instant with its offset, as every step's input carries times. */
export const instantSchema = z.iso.datetime({ offset: true, error: 'must be an ISO-8601 instant such as 2024-06-01T00:00:00Z' });
/** A cohort id as inputs carry it. */
export const cohortIdSchema = z.string().regex(COHORT_ID, 'must be a cohort id (snake_case, 3 to 63 characters)');

/**
 * How a refresh computes its cohorts (issue 14): `tiles` from daily tiles plus the raw edges,
 * `full` from raw events only as before tiles (no tile touched), `verify` both, failing
 * before anything is published when they differ.
 */
export const REFRESH_MODES = ['tiles', 'full', 'verify'] as const;

/** One of {@link REFRESH_MODES}. */
export type RefreshMode = (typeof REFRESH_MODES)[number];

/**
 * The mode of a refresh that names none: `full` for now, because the tiled path does not yet meet
 * the benchmark targets (README, Refresh modes); erasure already reaches the tiles in both worlds.
 * Then: `tiles`.
 */
export const DEFAULT_REFRESH_MODE: RefreshMode = 'full';

/**
 * The mode a refresh computes in: the one it names, else `tiles` for a `realtime` run (a
 * micro-batch reads the tiles plus today's raw events, never the history), else
 * {@link DEFAULT_REFRESH_MODE}.
 */
export function refreshModeOf(request: { readonly mode?: RefreshMode; readonly cadence?: Cadence }): RefreshMode {
  return request.mode ?? (request.cadence === 'realtime' ? 'tiles' : DEFAULT_REFRESH_MODE);
}

/** What a schedule, an upload trigger or `cohorts run` passes to an execution. */
export const refreshInputSchema = z.strictObject({
  trigger: z.string().min(1).max(200).default(MANUAL_TRIGGER),
  as_of: instantSchema.optional(),
  cohorts: z.array(cohortIdSchema).optional(),
  cadence: z.enum(CADENCES).optional(),
  force: z.boolean().optional(),
  rationale: z.string().min(1).optional(),
  /** Who wrote the definition changes this run may accept (recorded in the catalog). */
  author: z.string().min(1).max(200).optional(),
  /** How the cohorts are computed. @default DEFAULT_REFRESH_MODE */
  mode: z.enum(REFRESH_MODES).optional(),
});

/** The execution input as a caller writes it (`trigger` may be left out). */
export type RefreshInput = z.input<typeof refreshInputSchema>;

/** Starts a refresh state machine execution. */
export interface RefreshStarter {
  /**
   * Starts a refresh named `name`. Starting one already started under that name starts nothing
   * and succeeds. Returns the execution's id (its ARN in the cloud).
   */
  start(input: RefreshInput, name: string): Promise<string>;
}

/**
 * The refresh a definition change starts (an accepted upload, an approval): the cohort first, then
 * every live cohort that reads it, directly or through others (deprecated ones included on the
 * way), in catalog order; the change's reason, when it gives one, as the rationale.
 */
export function definitionChangeRefresh(
  catalog: readonly CohortDefinition[],
  id: string,
  changeReason: string | undefined,
): RefreshInput & { readonly cohorts: string[] } {
  const dependants = cohortGraph(catalog)
    .reached(id, 'dependants')
    .filter((d) => !d.deprecated);
  return {
    trigger: DEFINITION_CHANGE_TRIGGER,
    cohorts: [id, ...dependants.map((d) => d.id)],
    ...(changeReason ? { rationale: changeReason } : {}),
  };
}

/** A refresh execution that is running, as the state machine lists it. */
export interface RunningExecution {
  /** The execution's name: the run id. */
  readonly name: string;
  readonly startedAt: Date;
  /** Its input's cadence, when it was started for one (a schedule). */
  readonly cadence: Cadence | undefined;
}

/** Lists the refresh state machine's running executions (Step Functions in the cloud). */
export interface RunningExecutions {
  running(): Promise<readonly RunningExecution[]>;
}
