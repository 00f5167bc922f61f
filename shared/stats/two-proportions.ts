import { normalQuantile, twoSidedP } from './normal.ts';
import type { Interval, Proportion } from './proportion.ts';
import { newcombeInterval } from './score-intervals.ts';

/** Two groups compared: treatment (a) against control (b). */
export interface ProportionComparison {
  readonly rateA: number;
  readonly rateB: number;
  /** rateA - rateB. */
  readonly difference: number;
  /** Wald interval of the difference (unpooled standard error; Newcombe 1998, method 1). */
  readonly differenceInterval: Interval;
  /**
   * Newcombe's hybrid score interval of the difference (Newcombe 1998, method 10, from Wilson
   * intervals): the one to read with small groups or rates near 0% or 100%, where Wald's misleads.
   */
  readonly scoreInterval: Interval;
  /** rateA / rateB - 1; null when rateB is 0. */
  readonly relative: number | null;
  /** Katz log interval of the ratio, minus 1. */
  readonly relativeInterval: Interval;
  /** Pooled two-proportion z statistic; null when it is undefined (no variance). */
  readonly z: number | null;
  /** Two-sided p-value of z; 1 when there is nothing to test. */
  readonly p: number;
}

const rate = (g: Proportion) => (g.trials === 0 ? 0 : g.successes / g.trials);

function check(g: Proportion, name: string): void {
  if (!Number.isInteger(g.successes) || !Number.isInteger(g.trials) || g.successes < 0 || g.successes > g.trials) {
    throw new RangeError(`${name} needs whole numbers 0 <= successes <= trials, got ${g.successes} of ${g.trials}`);
  }
}

/**
 * Compares two proportions (Illowsky & Dean, Collaborative Statistics, "Comparing two independent
 * population proportions"): the pooled two-proportion z-test with its two-sided p-value, the Wald
 * interval of the difference (Newcombe 1998, method 1), Newcombe's hybrid score interval of the
 * difference (method 10) and the log interval of the ratio (Katz et al. 1978; Altman 1991), at the
 * given confidence level.
 */
export function compareProportions(a: Proportion, b: Proportion, level = 0.95): ProportionComparison {
  check(a, 'group a');
  check(b, 'group b');
  const z0 = normalQuantile(1 - (1 - level) / 2);
  const pa = rate(a);
  const pb = rate(b);
  const difference = pa - pb;
  const empty = a.trials === 0 || b.trials === 0;
  const seDiff = empty ? NaN : Math.sqrt((pa * (1 - pa)) / a.trials + (pb * (1 - pb)) / b.trials);
  const differenceInterval: Interval = empty
    ? { low: null, high: null }
    : { low: difference - z0 * seDiff, high: difference + z0 * seDiff };
  const relative = pb === 0 ? null : pa / pb - 1;
  let relativeInterval: Interval = { low: null, high: null };
  if (a.successes > 0 && b.successes > 0) {
    const seLog = Math.sqrt(1 / a.successes - 1 / a.trials + 1 / b.successes - 1 / b.trials);
    const logRatio = Math.log(pa / pb);
    relativeInterval = { low: Math.exp(logRatio - z0 * seLog) - 1, high: Math.exp(logRatio + z0 * seLog) - 1 };
  }
  const pooled = empty ? NaN : (a.successes + b.successes) / (a.trials + b.trials);
  const sePooled = Math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials));
  const z = empty || !(sePooled > 0) ? null : difference / sePooled;
  const scoreInterval = newcombeInterval(a, b, z0);
  return {
    rateA: pa,
    rateB: pb,
    difference,
    differenceInterval,
    scoreInterval,
    relative,
    relativeInterval,
    z,
    p: z === null ? 1 : twoSidedP(z),
  };
}
