import { describe, expect, it } from 'vitest';
import { benjaminiHochberg } from '../../shared/stats/benjamini-hochberg.ts';
import { normalCdf, normalQuantile, twoSidedP } from '../../shared/stats/normal.ts';
import { sampleSizeForProportions } from '../../shared/stats/sample-size.ts';
import { wilsonInterval } from '../../shared/stats/score-intervals.ts';
import { compareProportions } from '../../shared/stats/two-proportions.ts';

describe('the standard normal distribution', () => {
  it('gives the quantiles printed in every normal table', () => {
    // z(0.975) = 1.96 and z(0.80) = 0.8416 (e.g. Altman 1991, Table B2; Fleiss et al. 2003, Table A.1).
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.8)).toBeCloseTo(0.841621, 5);
    expect(normalQuantile(0.005)).toBeCloseTo(-2.575829, 5);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(twoSidedP(1.959964)).toBeCloseTo(0.05, 6);
  });
});

describe('comparing two proportions', () => {
  it('reproduces the two-proportion z-test worked example of Illowsky & Dean (p-value 0.1404)', () => {
    // Illowsky & Dean, Collaborative Statistics (Connexions m17043, "Comparing two independent
    // population proportions"): 20 of 200 on medication A against 12 of 200 on medication B still
    // had hives; pooled p = 0.08, two-sided p-value = 0.1404.
    const result = compareProportions({ successes: 20, trials: 200 }, { successes: 12, trials: 200 });
    expect(result.rateA).toBe(0.1);
    expect(result.rateB).toBe(0.06);
    expect(result.difference).toBeCloseTo(0.04, 12);
    expect(result.p).toBeCloseTo(0.1404, 4);
  });

  it('reproduces the simple asymptotic interval of Newcombe (1998), example (a): 0.0575 to 0.3425', () => {
    // Newcombe RG, Interval estimation for the difference between independent proportions:
    // comparison of eleven methods. Statistics in Medicine 1998;17:873-890, Table II, example (a)
    // 56/70 - 48/80, method 1 (Wald): 0.0575, 0.3425.
    const result = compareProportions({ successes: 56, trials: 70 }, { successes: 48, trials: 80 });
    expect(result.difference).toBeCloseTo(0.2, 12);
    expect(result.differenceInterval.low).toBeCloseTo(0.0575, 4);
    expect(result.differenceInterval.high).toBeCloseTo(0.3425, 4);
  });

  it('reproduces the hybrid score intervals of Newcombe (1998), method 10, examples (a) and (b)', () => {
    // Newcombe RG, Statistics in Medicine 1998;17:873-890, Table II, method 10 (score interval from
    // Wilson intervals, no continuity correction): (a) 56/70 - 48/80 = 0.2000, 0.0524 to 0.3339;
    // (b) 9/10 - 3/10 = 0.6000, 0.1705 to 0.8090. Values as quoted from that table by the tests of
    // the R package propint ("ci.two.indep.props produces the results reported in Newcombe1998").
    const a = compareProportions({ successes: 56, trials: 70 }, { successes: 48, trials: 80 });
    expect(a.scoreInterval.low).toBeCloseTo(0.0524, 4);
    expect(a.scoreInterval.high).toBeCloseTo(0.3339, 4);
    const b = compareProportions({ successes: 9, trials: 10 }, { successes: 3, trials: 10 });
    expect(b.difference).toBeCloseTo(0.6, 12);
    expect(b.scoreInterval.low).toBeCloseTo(0.1705, 4);
    expect(b.scoreInterval.high).toBeCloseTo(0.809, 4);
    // Wald's interval of (b) is narrower and symmetric: 0.6 -/+ 1.96 * sqrt(0.09/10 + 0.21/10) = 0.2605 to 0.9395.
    expect(b.differenceInterval.low).toBeCloseTo(0.2605, 4);
  });

  it('gives Wilson intervals that stay inside [0, 1] and are never zero-width at 0 or all', () => {
    // Wilson 1927 by hand: 0 of 10 at z = 1.96 is 0 to z^2 / (n + z^2) = 3.8415 / 13.8415 = 0.2775.
    const z = normalQuantile(0.975);
    expect(wilsonInterval({ successes: 0, trials: 10 }, z)).toEqual({ low: 0, high: expect.closeTo(0.2775, 4) });
    expect(wilsonInterval({ successes: 10, trials: 10 }, z)).toEqual({ low: expect.closeTo(1 - 0.2775, 4), high: 1 });
    expect(wilsonInterval({ successes: 0, trials: 0 }, z)).toEqual({ low: null, high: null });
    // Two arms that both convert nobody: Wald says exactly 0 (zero width), the score interval does not.
    const none = compareProportions({ successes: 0, trials: 10 }, { successes: 0, trials: 2 });
    expect(none.differenceInterval).toEqual({ low: 0, high: 0 });
    expect(none.scoreInterval.low).toBeLessThan(-0.5);
    expect(none.scoreInterval.high).toBeGreaterThan(0.2);
    // All against none in arms of 2: Wald is certain of +100 points, the score interval is not.
    const all = compareProportions({ successes: 2, trials: 2 }, { successes: 0, trials: 2 });
    expect(all.differenceInterval).toEqual({ low: 1, high: 1 });
    expect(all.scoreInterval.high).toBe(1);
    expect(all.scoreInterval.low).toBeLessThan(0.5);
    expect(all.scoreInterval.low).toBeGreaterThan(0);
  });

  it('gives the log (Katz) interval of the ratio as a relative lift', () => {
    // Altman, Practical Statistics for Medical Research (1991), SE(ln RR) = sqrt(1/a - 1/n1 + 1/c - 1/n2).
    // By hand for 20/200 against 12/200: RR = 0.1/0.06 = 1.6667, ln RR = 0.51083,
    // SE = sqrt(1/20 - 1/200 + 1/12 - 1/200) = sqrt(0.123333) = 0.35119,
    // limits exp(0.51083 -/+ 1.95996 * 0.35119) = 0.83737 and 3.31727, so the lift is -16.26% to +231.73%.
    const result = compareProportions({ successes: 20, trials: 200 }, { successes: 12, trials: 200 });
    expect(result.relative).toBeCloseTo(0.666667, 5);
    expect(result.relativeInterval.low).toBeCloseTo(0.83737 - 1, 4);
    expect(result.relativeInterval.high).toBeCloseTo(3.31727 - 1, 4);
  });

  it('has no interval or test where a group is empty or nobody converted anywhere', () => {
    const empty = compareProportions({ successes: 0, trials: 0 }, { successes: 3, trials: 10 });
    expect(empty.differenceInterval).toEqual({ low: null, high: null });
    expect(empty.scoreInterval).toEqual({ low: null, high: null });
    expect(empty.z).toBeNull();
    expect(empty.p).toBe(1);
    const none = compareProportions({ successes: 0, trials: 50 }, { successes: 0, trials: 5 });
    expect(none.relative).toBeNull();
    expect(none.p).toBe(1);
    expect(() => compareProportions({ successes: 6, trials: 5 }, { successes: 0, trials: 5 })).toThrow(RangeError);
  });
});

describe('the sample size to detect a difference', () => {
  it('needs 686 per group for 10% against 15% at alpha 0.05 and 80% power', () => {
    // Fleiss, Levin & Paik (2003), section 4.2, without continuity correction; by hand:
    // p = 0.125, [1.95996 sqrt(2 * 0.125 * 0.875) + 0.84162 sqrt(0.09 + 0.1275)]^2 / 0.05^2
    //   = [0.91669 + 0.39251]^2 / 0.0025 = 685.6, so 686 in each group.
    expect(sampleSizeForProportions(0.15, 0.1)).toEqual({ a: 686, b: 686 });
    expect(sampleSizeForProportions(0.1, 0.15)).toEqual({ a: 686, b: 686 });
  });

  it('takes the allocation ratio of a holdout into account', () => {
    // By hand for 15% against 10% with a nine times larger treatment group (a 10% holdout):
    // p = (9 * 0.15 + 0.10) / 10 = 0.145; n_b = [1.95996 sqrt((1 + 1/9) * 0.145 * 0.855)
    //   + 0.84162 sqrt(0.1275 / 9 + 0.09)]^2 / 0.0025 = [1.95996 * 0.371147 + 0.84162 * 0.322749]^2 / 0.0025
    //   = [0.727434 + 0.271632]^2 / 0.0025 = 399.25, so 400 in the holdout and 9 * 400 = 3600 in treatment.
    expect(sampleSizeForProportions(0.15, 0.1, { ratio: 9 })).toEqual({ a: 3600, b: 400 });
  });

  it('is undefined when there is no difference to detect', () => {
    expect(sampleSizeForProportions(0.2, 0.2)).toBeNull();
  });
});

describe('Benjamini-Hochberg adjusted p-values', () => {
  // Benjamini & Hochberg (1995), section 4: the 15 p-values of Neuhaus et al. (1992); at q = 0.05
  // the procedure rejects the four smallest. Adjusted values by hand: p(i) * 15 / i, then the
  // running minimum from the largest down.
  const P = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.324, 0.4262, 0.5719, 0.6528, 0.759, 1.0];
  const ADJUSTED = [
    0.0015, 0.003, 0.0095, 0.035625, 0.0603, 0.063857, 0.063857, 0.0645, 0.0765, 0.486, 0.581182, 0.714875, 0.753231, 0.813214, 1.0,
  ];

  it('reproduces the worked example of the 1995 paper: four hypotheses rejected at q = 0.05', () => {
    const adjusted = benjaminiHochberg(P);
    adjusted.forEach((value, i) => {
      expect(value).toBeCloseTo(ADJUSTED[i] as number, 5);
    });
    expect(adjusted.filter((value) => value <= 0.05)).toHaveLength(4);
  });

  it('keeps the order given', () => {
    const shuffled = [P[9], P[0], P[4], P[14]] as number[];
    const adjusted = benjaminiHochberg(shuffled);
    // m = 4: sorted 0.0001, 0.0201, 0.324, 1.0 -> 0.0004, 0.0402, 0.432, 1.0.
    expect(adjusted.map((v) => Number(v.toFixed(6)))).toEqual([0.432, 0.0004, 0.0402, 1]);
  });
});
