import type { Interval, Proportion } from './proportion.ts';

/**
 * Wilson's score interval of one proportion (Wilson 1927; Newcombe 1998, "Two-sided confidence
 * intervals for the single proportion", method 3), without continuity correction, for the normal
 * quantile `z`. Null bounds for an empty group.
 */
export function wilsonInterval(group: Proportion, z: number): Interval {
  const n = group.trials;
  if (n === 0) return { low: null, high: null };
  const p = group.successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // 0 and 1 exactly where the data sit at the edge (the algebra says so; doubles may miss by 1e-17).
  return { low: group.successes === 0 ? 0 : centre - half, high: group.successes === n ? 1 : centre + half };
}

/**
 * Newcombe's hybrid score interval of a difference of proportions a - b (Newcombe 1998, "Interval
 * estimation for the difference between independent proportions", method 10): from the Wilson
 * intervals (l1, u1) of a and (l2, u2) of b, `d - sqrt((pa - l1)^2 + (u2 - pb)^2)` to
 * `d + sqrt((u1 - pa)^2 + (pb - l2)^2)`. Unlike Wald's it stays inside [-1, 1], is not zero-width
 * when a group converts nobody or everybody, and keeps near its nominal coverage with small groups.
 */
export function newcombeInterval(a: Proportion, b: Proportion, z: number): Interval {
  const wa = wilsonInterval(a, z);
  const wb = wilsonInterval(b, z);
  if (wa.low === null || wa.high === null || wb.low === null || wb.high === null) return { low: null, high: null };
  const pa = a.successes / a.trials;
  const pb = b.successes / b.trials;
  const d = pa - pb;
  return {
    low: Math.max(-1, d - Math.hypot(pa - wa.low, wb.high - pb)),
    high: Math.min(1, d + Math.hypot(wa.high - pa, pb - wb.low)),
  };
}
