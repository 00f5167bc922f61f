import { median } from './robust-z.ts';

/** Scales MAD to the standard deviation of a normal distribution. */
export const MAD_TO_SIGMA = 1.4826;

/** How the last day compares with its history. */
export interface RobustScore {
  /** Days of history used: from the first day with events, through the day before the last. */
  readonly historyDays: number;
  readonly median: number;
  /** Median absolute deviation from the median. */
  readonly mad: number;
  /** The scale z divides by: `max(1.4826 * MAD, 1)`. */
  readonly scale: number;
  /** `(last - median) / scale`. */
  readonly z: number;
}

/**
 * The robust z-score of `last` against `history` (oldest first): `(last - median) / (1.4826 * MAD)`.
 * Days before the first day with events are not history (the source did not exist yet, or
 * not in the window), so leading zeros are dropped; zeros after it count (an outage is history).
 *
 * With MAD 0 (at least half the days had exactly the median) the scale would be 0 and any change
 * infinite. The scale is therefore never below one event: counts cannot be steadier than that, so
 * on a perfectly steady history the last day may move by fewer than `warn` events and still pass,
 * while a drop to nothing or a doubling is still many "events of scale" away and fails.
 * Returns undefined when there is no history at all.
 */
export function robustScore(last: number, history: readonly number[]): RobustScore | undefined {
  const first = history.findIndex((count) => count > 0);
  if (first === -1) return undefined;
  const days = history.slice(first);
  const middle = median(days);
  const mad = median(days.map((count) => Math.abs(count - middle)));
  const scale = Math.max(MAD_TO_SIGMA * mad, 1);
  return { historyDays: days.length, median: middle, mad, scale, z: (last - middle) / scale };
}
