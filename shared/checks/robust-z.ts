/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The median of a non-empty `history` and its spread: 1.4826 times the MAD, never below `noise(median)`. */
export function robustSpread(history: readonly number[], noise?: (center: number) => number): { center: number; scale: number } {
  const center = median(history);
  const mad = median(history.map((v) => Math.abs(v - center)));
  return { center, scale: Math.max(1.4826 * mad, noise?.(center) ?? 0) };
}

/**
 * How unusual `value` is against `history`: (value - median) / (1.4826 * MAD), where MAD is the
 * median absolute deviation (1.4826 makes it comparable to a standard deviation for normal data).
 * When the history never varies (MAD 0), any other value is infinitely unusual and the same value is 0,
 * unless `noise(median)` gives the least spread the value can have (the scale is never below it).
 */
export function robustZ(value: number, history: readonly number[], noise?: (center: number) => number): number {
  return zAgainst(value, robustSpread(history, noise));
}

/** `value`'s z against a median and spread (robustSpread); a spread of 0 makes any other value infinitely unusual. */
export function zAgainst(value: number, { center, scale }: { center: number; scale: number }): number {
  if (scale === 0) return value === center ? 0 : value > center ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  return (value - center) / scale;
}

/**
 * A least spread of `percent`% of the center's magnitude, for `robustZ`: a history steadier than that
 * makes ordinary moves look like outliers (a steady value sum has a MAD of a fraction of a percent,
 * and one large purchase moves it by 5%).
 */
export const relativeSpread =
  (percent: number) =>
  (center: number): number =>
    (percent / 100) * Math.abs(center);

/**
 * A share of `n` with Agresti and Coull's two successes and two failures added: the center a share's
 * binomial noise is taken at, so that 0% and 100% still have a spread (the KPI activation share's and
 * the churn's least spread).
 */
export const adjustedShare = (share: number, n: number): number => (share * n + 2) / (n + 4);
