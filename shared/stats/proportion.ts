/** Successes out of trials in one group. */
export interface Proportion {
  readonly successes: number;
  readonly trials: number;
}

/** A confidence interval; null bounds where the data cannot give one (an empty group, zero events). */
export interface Interval {
  readonly low: number | null;
  readonly high: number | null;
}
