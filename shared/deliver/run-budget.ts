/** The moves of one Snapshot outcome of a run, as the Deliver iterations see them all (in the run's order). */
export interface RunMoves {
  readonly status: readonly string[];
  readonly entered: readonly number[];
  readonly exited: readonly number[];
}

/**
 * The member events a run's version at `index` may still send (issue 15: the limit
 * `events.member_events_max` is per run): the published versions before it, in the run's order,
 * each send their per-member events when they fit in what is left and one pointer event otherwise,
 * so the run's member events stay within `max` whatever order the Deliver iterations run in.
 * Counts are the outcomes' (before screening), so the events sent never exceed them.
 */
export function memberEventsLeft(moves: RunMoves, index: number, max: number): number {
  let used = 0;
  for (let at = 0; at < index && at < moves.status.length; at += 1) {
    const moved = (moves.entered[at] ?? 0) + (moves.exited[at] ?? 0);
    if (moves.status[at] === 'published' && used + moved <= max) used += moved;
  }
  return max - used;
}
