import type { QualitySettings } from '../language/ast.ts';
import type { CheckResult } from '../store/manifest.ts';

/** What cohort checks look at for one new version. */
export interface CohortCheckInput {
  readonly size: number;
  /** Size of the previous published version, if any. */
  readonly previousSize?: number;
  readonly quality?: QualitySettings;
}

const pct = (value: number) => `${Math.round(value * 10) / 10}%`;

/**
 * Cohort checks of SPEC section 6 that need nothing but sizes: declared bounds, change against
 * the previous published version, and an empty cohort. Checks never change membership.
 */
export function cohortChecks(input: CohortCheckInput): CheckResult[] {
  const { size, previousSize, quality } = input;
  const results: CheckResult[] = [];
  if (quality?.min_size !== undefined) {
    const ok = size >= quality.min_size;
    results.push({
      name: 'min_size',
      status: ok ? 'pass' : 'fail',
      observed: size,
      threshold: quality.min_size,
      message: ok ? `${size} members, at least ${quality.min_size} required` : `only ${size} members, below the minimum of ${quality.min_size}`,
    });
  }
  if (quality?.max_size !== undefined) {
    const ok = size <= quality.max_size;
    results.push({
      name: 'max_size',
      status: ok ? 'pass' : 'fail',
      observed: size,
      threshold: quality.max_size,
      message: ok ? `${size} members, at most ${quality.max_size} allowed` : `${size} members, above the maximum of ${quality.max_size}`,
    });
  }
  if (quality?.max_change_pct !== undefined && previousSize !== undefined) {
    const change = previousSize === 0 ? (size === 0 ? 0 : Number.POSITIVE_INFINITY) : (Math.abs(size - previousSize) / previousSize) * 100;
    const ok = change <= quality.max_change_pct;
    const observed = Number.isFinite(change) ? Math.round(change * 10) / 10 : 'infinite';
    results.push({
      name: 'max_change_pct',
      status: ok ? 'pass' : 'fail',
      observed,
      threshold: quality.max_change_pct,
      message: `size moved from ${previousSize} to ${size} (${Number.isFinite(change) ? pct(change) : 'from empty'}); at most ${pct(quality.max_change_pct)} allowed`,
    });
  }
  results.push({
    name: 'not_empty',
    status: size > 0 ? 'pass' : 'warn',
    observed: size,
    threshold: 1,
    message: size > 0 ? `${size} members` : 'the cohort is empty: check the definition and the sources it reads',
  });
  return results;
}

/** `fail` holds a version; anything else publishes it. */
export function verdict(checks: readonly CheckResult[]): 'published' | 'held' {
  return checks.some((check) => check.status === 'fail') ? 'held' : 'published';
}
