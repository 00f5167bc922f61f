import type { Cadence, CohortDefinition } from '../language/ast.ts';
import type { RunningExecution, RunningExecutions } from '../refresh-request.ts';
import { TilesBusyError } from './errors.ts';
import type { PlanEvent } from './events.ts';
import type { TileLease } from './tile-lease.ts';

/**
 * No overlap between runs of one cadence, in the cloud: a scheduled run that finds an earlier
 * run of its cadence still running ends at once as skipped (the Plan function returns
 * {@link SkippedRun}, a Choice state ends the execution in `Skipped`), counted by a metric and a
 * log line. The next tick of the schedule refreshes as of its own moment, so nothing is lost but
 * the skipped tick. Across cadences, the tile store's lease (tile-lease.ts) keeps one execution at a
 * time over the tiles: a realtime tick finding it held is skipped (`busy`), any other run waits.
 * Locally the state folder's run lock serializes runs and `cohorts watch` queues one.
 */

/** What Plan returns instead of a plan when the run must not start. */
export interface SkippedRun {
  readonly skipped: {
    /**
     * `overlap`: an earlier run of the cadence still runs; `no-cohorts`: no live cohort has the
     * cadence; `busy`: another execution (of another cadence) holds the tile store's lease (a realtime tick only).
     */
    readonly reason: 'overlap' | 'no-cohorts' | 'busy';
    readonly cadence: Cadence;
    /** The earlier run of the cadence that is still running (`overlap`), or the lease's holder (`busy`). */
    readonly running?: string;
  };
}

/**
 * {@link SkippedRun} for a scheduled run of a cadence no live cohort has (every deployment has a
 * realtime schedule: without realtime cohorts its ticks must cost nothing but this look). A
 * catalog with problems is planned, so that Plan fails and alerts as always.
 */
export function skippedWithoutCohorts(
  event: PlanEvent,
  catalog: { readonly definitions: readonly CohortDefinition[]; readonly problems: readonly unknown[] },
): SkippedRun | undefined {
  const cadence = event.request.cadence;
  if (cadence === undefined || event.request.cohorts !== undefined || catalog.problems.length > 0) return undefined;
  return catalog.definitions.some((d) => d.cadence === cadence && !d.deprecated)
    ? undefined
    : { skipped: { reason: 'no-cohorts', cadence } };
}

/**
 * The earliest other running execution of `cadence` that started before this one (ties broken by
 * name, so of two runs started together exactly one goes on), if any.
 */
export function earlierRun(
  executions: readonly RunningExecution[],
  cadence: Cadence,
  self: { readonly name: string; readonly startedAt: Date },
): RunningExecution | undefined {
  const before = (e: RunningExecution) =>
    e.startedAt.getTime() < self.startedAt.getTime() || (e.startedAt.getTime() === self.startedAt.getTime() && e.name < self.name);
  return executions
    .filter((e) => e.name !== self.name && e.cadence === cadence && before(e))
    .sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime())[0];
}

/** {@link SkippedRun} when a run of the event's cadence started earlier and still runs; undefined for a run without a cadence. */
export async function skippedByOverlap(event: PlanEvent, executions: RunningExecutions): Promise<SkippedRun | undefined> {
  const cadence = event.request.cadence;
  if (cadence === undefined) return undefined;
  const earlier = earlierRun(await executions.running(), cadence, { name: event.run_id, startedAt: new Date(event.started_at) });
  return earlier ? { skipped: { reason: 'overlap', cadence, running: earlier.name } } : undefined;
}

/**
 * Takes the tile store's lease for the run (after the skip checks, before anything touches the
 * tiles). Held by another running execution: a realtime tick is {@link SkippedRun} (`busy`; the next
 * tick refreshes as of its own moment), any other run throws {@link TilesBusyError}, which the state
 * machine retries. `tookOver` is told of a holder that no longer ran.
 */
export async function skippedByLease(
  event: PlanEvent,
  lease: TileLease,
  executions: RunningExecutions,
  tookOver: (holder: string) => void = () => {},
): Promise<SkippedRun | undefined> {
  const taken = await lease.take(event.run_id, executions);
  if (taken.taken) {
    if (taken.took_over !== undefined) tookOver(taken.took_over);
    return undefined;
  }
  if (event.request.cadence === 'realtime') return { skipped: { reason: 'busy', cadence: 'realtime', running: taken.holder } };
  throw new TilesBusyError(taken.holder);
}
