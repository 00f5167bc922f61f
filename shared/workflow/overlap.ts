import type { Cadence, CohortDefinition } from '../language/ast.ts';
import type { RunningExecution, RunningExecutions } from '../refresh-request.ts';
import { TilesBusyError } from './errors.ts';
import type { PlanEvent } from './events.ts';
import type { DeliveringRun, TileLease } from './tile-lease.ts';

/**
 * No overlap between runs of one cadence, in the cloud: a scheduled run that finds an earlier
 * run of its cadence still running ends at once as skipped (the Plan function returns
 * {@link SkippedRun}, a Choice state ends the execution in `Skipped`), counted by a metric and a
 * log line. The next tick of the schedule refreshes as of its own moment, so nothing is lost but
 * the skipped tick. Across cadences, the tile store's lease (tile-lease.ts) keeps one execution at a
 * time over the tiles: a realtime tick finding it held is skipped (`busy`), any other run waits,
 * recorded in the lease, and ticks are skipped while it waits, so that it is not starved. Likewise
 * when a cohort the run planned is one a run past ReleaseTiles still snapshots (whose
 * `current.json` is about to move). Locally the state folder's run lock serializes runs and `cohorts watch` queues one.
 */

/** What Plan returns instead of a plan when the run must not start. */
export interface SkippedRun {
  readonly skipped: {
    /**
     * `overlap`: an earlier run of the cadence still runs; `no-cohorts`: no live cohort has the
     * cadence; `busy`: another execution (of another cadence) holds the tile store's lease, waits
     * for it, or still snapshots a cohort the tick planned (a realtime tick only).
     */
    readonly reason: 'overlap' | 'no-cohorts' | 'busy';
    readonly cadence: Cadence;
    /** The earlier run of the cadence that is still running (`overlap`), or the lease's holder, the waiting run or the delivering run (`busy`). */
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

/** The tile store's lease taken: the other runs past ReleaseTiles that still run (see {@link TileLease.take}). */
export interface TilesTaken {
  readonly delivering: readonly DeliveringRun[];
}

/**
 * Takes the tile store's lease for the run (after the skip checks, before anything touches the
 * tiles). Held by another running execution: a realtime tick is {@link SkippedRun} (`busy`; the next
 * tick refreshes as of its own moment), any other run is recorded as waiting and throws
 * {@link TilesBusyError}, which the state machine retries. Free while another run waits for it: a
 * realtime tick is skipped `busy` (naming that run), and so waits a run that was not refused before it
 * (first come, first served). `tookOver` is told of a holder that no longer ran.
 */
export async function skippedByLease(
  event: PlanEvent,
  lease: TileLease,
  executions: RunningExecutions,
  tookOver: (holder: string) => void = () => {},
): Promise<SkippedRun | TilesTaken> {
  const taken = await lease.take(event.run_id, executions, waits(event));
  if (taken.taken) {
    if (taken.took_over !== undefined) tookOver(taken.took_over);
    return { delivering: taken.delivering };
  }
  return busy(event, taken.holder, undefined, taken.waiting);
}

/**
 * After planning, holding the lease: when a cohort the run planned is one a run past ReleaseTiles
 * still snapshots, its version number was assigned against a `current.json` that run is about to
 * move (its Snapshot would fail with CurrentMovedError). Then the lease is given back and the run
 * does not go on: a realtime tick is {@link SkippedRun} (`busy`, naming that run), any other run is
 * recorded as waiting, throws {@link TilesBusyError} and plans again when the state machine retries.
 */
export async function skippedByDelivery(
  event: PlanEvent,
  planned: readonly string[],
  taken: TilesTaken,
  lease: TileLease,
): Promise<SkippedRun | undefined> {
  const ids = new Set(planned);
  const other = taken.delivering.find((d) => d.cohorts.some((c) => ids.has(c)));
  if (other === undefined) return undefined;
  await lease.stepAside(event.run_id, waits(event));
  return busy(
    event,
    other.run,
    other.cohorts.filter((c) => ids.has(c)),
  );
}

/** Whether the run waits for the tiles (any run but a realtime tick, which is skipped). */
const waits = (event: PlanEvent): boolean => event.request.cadence !== 'realtime';

/** A realtime tick is skipped `busy`; any other run waits (TilesBusyError), `ahead` when `running` waits too. */
function busy(event: PlanEvent, running: string, cohorts?: readonly string[], ahead?: true): SkippedRun {
  if (!waits(event)) return { skipped: { reason: 'busy', cadence: 'realtime', running } };
  throw new TilesBusyError(running, cohorts, ahead);
}
