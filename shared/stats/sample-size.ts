import { normalQuantile } from './normal.ts';

/** People needed in each group. */
export interface SampleSize {
  /** Group a (treatment). */
  readonly a: number;
  /** Group b (control or holdout). */
  readonly b: number;
}

/**
 * People needed to detect a difference between rates `pa` and `pb` with a two-sided test at
 * `alpha` and the given power, with `ratio` = size of a / size of b. The normal-approximation
 * formula without continuity correction (Fleiss, Levin & Paik, Statistical Methods for Rates and
 * Proportions, 3rd ed., 2003, section 4.2), generalised to unequal groups:
 *
 *   n_b = [z(1-alpha/2) sqrt((1 + 1/r) p q) + z(power) sqrt(pa qa / r + pb qb)]^2 / (pa - pb)^2,
 *   p = (r pa + pb) / (r + 1), n_a = r n_b, each rounded up.
 *
 * Undefined (null) when the rates are equal: no sample detects a lift of zero.
 */
export function sampleSizeForProportions(
  pa: number,
  pb: number,
  options: { ratio?: number; alpha?: number; power?: number } = {},
): SampleSize | null {
  const r = options.ratio ?? 1;
  const alpha = options.alpha ?? 0.05;
  const power = options.power ?? 0.8;
  if (!(r > 0) || !(alpha > 0 && alpha < 1) || !(power > 0 && power < 1))
    throw new RangeError('ratio must be positive, alpha and power between 0 and 1');
  if (![pa, pb].every((p) => p >= 0 && p <= 1)) throw new RangeError(`rates must lie in [0, 1], got ${pa} and ${pb}`);
  const delta = pa - pb;
  if (delta === 0) return null;
  const pooled = (r * pa + pb) / (r + 1);
  const zAlpha = normalQuantile(1 - alpha / 2);
  const zPower = normalQuantile(power);
  const root = zAlpha * Math.sqrt((1 + 1 / r) * pooled * (1 - pooled)) + zPower * Math.sqrt((pa * (1 - pa)) / r + pb * (1 - pb));
  const b = Math.ceil((root * root) / (delta * delta) - 1e-9);
  return { a: Math.ceil(r * b - 1e-9), b };
}
