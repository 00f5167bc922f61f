import type { CheckResult } from '../store/manifest.ts';

/** The churn an earlier version warned of, which later versions above the bound repeat. */
export interface ChurnWarning {
  /** The version whose churn check warned. */
  readonly version: number;
  /** Its churn in percent (infinite: all new after an empty version). */
  readonly churn: number;
}

/** A stored churn check's observed percent as a number ('infinite' for a version that moved from empty). */
function observedChurn(check: CheckResult): number | undefined {
  if (check.observed === 'infinite') return Number.POSITIVE_INFINITY;
  return typeof check.observed === 'number' ? check.observed : undefined;
}

/**
 * The latest churn warning the current run of high churn started from: walking back from the newest of
 * `published` (oldest first, the previous version last), over versions whose churn stayed above `bound`,
 * the first whose churn check warned. None when a version in between had churn at or below the bound (the
 * run ended), or had no churn check (a first version).
 */
export function churnWarnedBefore(
  published: readonly { readonly version: number; readonly checks: readonly CheckResult[] }[],
  bound: number,
): ChurnWarning | undefined {
  for (let i = published.length - 1; i >= 0; i--) {
    const version = published[i];
    const check = version?.checks.find((c) => c.name === 'churn');
    const churn = check === undefined ? undefined : observedChurn(check);
    if (version === undefined || check === undefined || churn === undefined || churn <= bound) return undefined;
    if (check.status === 'warn') return { version: version.version, churn };
  }
  return undefined;
}
