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
  /** The scale `madZ` divides by: `max(1.4826 * MAD, 1)`. */
  readonly scale: number;
  /** `(last - median) / scale`: the robust z of the counts as they are. */
  readonly madZ: number;
  /** The same distance in Poisson noise: {@link poissonZ} of the last day against the median. */
  readonly poissonZ: number;
  /** The milder of the two: `madZ`, unless Poisson noise alone would explain more of the distance. */
  readonly z: number;
}

/**
 * How far `count` is from `center` in units of Poisson noise, through Anscombe's transform
 * `2 * sqrt(x + 3/8)`, which makes a Poisson count's spread about 1 whatever its mean (the normal
 * approximation `(x - m) / sqrt(m)` would understate how unlikely a near-empty day is for a small `m`).
 */
export const poissonZ = (count: number, center: number): number => 2 * (Math.sqrt(count + 0.375) - Math.sqrt(center + 0.375));

/**
 * The robust z-score of `last` against `history` (oldest first): `(last - median) / (1.4826 * MAD)`.
 * Days before the first day with events are not history (the source did not exist yet, or
 * not in the window), so leading zeros are dropped; zeros after it count (an outage is history).
 *
 * With MAD 0 (at least half the days had exactly the median) the scale would be 0 and any change
 * infinite. The scale is therefore never below one event: counts cannot be steadier than that, so
 * on a perfectly steady history the last day may move by fewer than `warn` events and still pass,
 * while a drop to nothing or a doubling is still many "events of scale" away and fails.
 *
 * Counts of independent events are never steadier than Poisson noise either, which a handful of
 * days can hide: four Sundays of 641, 636, 642 and 634 events give a MAD of 3, so a Sunday of 594
 * (7% down, well within the noise of some 640 events) would score -10. The score is therefore never
 * further from 0 than {@link poissonZ} of the same day: a day that Poisson noise alone explains
 * passes, while an outage stays far in both (0 events against a median of 100: -18.8).
 * Returns undefined when there is no history at all.
 */
export function robustScore(last: number, history: readonly number[]): RobustScore | undefined {
  const first = history.findIndex((count) => count > 0);
  if (first === -1) return undefined;
  const days = history.slice(first);
  const middle = median(days);
  const mad = median(days.map((count) => Math.abs(count - middle)));
  const scale = Math.max(MAD_TO_SIGMA * mad, 1);
  const madZ = (last - middle) / scale;
  const noise = poissonZ(last, middle);
  return {
    historyDays: days.length,
    median: middle,
    mad,
    scale,
    madZ,
    poissonZ: noise,
    z: Math.abs(noise) < Math.abs(madZ) ? noise : madZ,
  };
}
