import type { QualitySettings } from '../language/ast.ts';
import type { CheckResult } from '../store/manifest.ts';
import { robustZ } from './robust-z.ts';

/** What cohort checks look at for one new version. */
export interface CohortCheckInput {
  readonly size: number;
  /** The previous published version, if any. */
  readonly previous?: { readonly size: number; readonly definitionHash: string };
  /** Sizes of earlier published versions, oldest first (the previous one included). */
  readonly history: readonly number[];
  readonly entered: number;
  readonly exited: number;
  readonly definitionHash: string;
  readonly changeReason?: string;
  readonly quality?: QualitySettings;
}

/** Defaults for what a definition's `quality:` block does not set. */
export const COHORT_CHECK_DEFAULTS = {
  /** Warn when more than this share of the previous members entered or left. */
  max_churn_pct: 50,
  /** Warn beyond this robust z-score of size against the history of versions... */
  max_history_z: 3.5,
  /** ...and only once there are this many earlier versions. */
  min_history: 5,
} as const;

/** How many of the latest earlier versions the history checks (size and KPIs) judge a version against. */
export const HISTORY_WINDOW = 28;

const pct = (value: number) => `${Math.round(value * 10) / 10}%`;
const round = (value: number) => Math.round(value * 100) / 100;

/**
 * Cohort checks of SPEC section 6: declared bounds, change against the previous published
 * version and against the history of versions, churn of membership, an empty cohort, and a
 * definition that changed without a change_reason. Checks never change membership.
 */
export function cohortChecks(input: CohortCheckInput): CheckResult[] {
  const { size, previous, quality } = input;
  const results: CheckResult[] = [];
  if (quality?.min_size !== undefined) {
    const ok = size >= quality.min_size;
    results.push({
      name: 'min_size',
      status: ok ? 'pass' : 'fail',
      observed: size,
      threshold: quality.min_size,
      message: ok
        ? `${size} members, at least ${quality.min_size} required`
        : `only ${size} members, below the minimum of ${quality.min_size}`,
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
  if (quality?.max_change_pct !== undefined && previous) results.push(changeCheck(size, previous.size, quality.max_change_pct));
  results.push(historyCheck(size, input.history, quality?.max_history_z ?? COHORT_CHECK_DEFAULTS.max_history_z));
  if (previous)
    results.push(churnCheck(input.entered, input.exited, previous.size, quality?.max_churn_pct ?? COHORT_CHECK_DEFAULTS.max_churn_pct));
  results.push({
    name: 'not_empty',
    status: size > 0 ? 'pass' : 'warn',
    observed: size,
    threshold: 1,
    message: size > 0 ? `${size} members` : 'the cohort is empty: check the definition and the sources it reads',
  });
  if (previous && previous.definitionHash !== input.definitionHash) {
    const explained = input.changeReason !== undefined;
    results.push({
      name: 'definition_change',
      status: explained ? 'pass' : 'warn',
      observed: input.definitionHash.slice(0, 12),
      threshold: previous.definitionHash.slice(0, 12),
      message: explained
        ? `the definition changed: ${input.changeReason}`
        : 'the definition changed since the previous version without a change_reason saying why',
    });
  }
  return results;
}

/** `moved` as a percentage of `previousSize`: 0 when nothing moved, infinite when moving from empty. */
function percentOfPrevious(moved: number, previousSize: number): number {
  if (previousSize === 0) return moved === 0 ? 0 : Number.POSITIVE_INFINITY;
  return (moved / previousSize) * 100;
}

const observedPercent = (value: number) => (Number.isFinite(value) ? round(value) : 'infinite');

function changeCheck(size: number, previousSize: number, maxPct: number): CheckResult {
  const change = percentOfPrevious(Math.abs(size - previousSize), previousSize);
  const shown = Number.isFinite(change) ? pct(change) : 'from empty';
  return {
    name: 'max_change_pct',
    status: change <= maxPct ? 'pass' : 'fail',
    observed: observedPercent(change),
    threshold: maxPct,
    message: `size moved from ${previousSize} to ${size} (${shown}); at most ${pct(maxPct)} allowed`,
  };
}

function historyCheck(size: number, history: readonly number[], maxZ: number): CheckResult {
  const recent = history.slice(-HISTORY_WINDOW);
  if (recent.length < COHORT_CHECK_DEFAULTS.min_history) {
    return {
      name: 'size_vs_history',
      status: 'pass',
      observed: size,
      threshold: null,
      message: `${recent.length} earlier versions; the history check starts at ${COHORT_CHECK_DEFAULTS.min_history}`,
    };
  }
  // A size is a count of people: never steadier than one of them, so a move by one after versions of one size is no outlier.
  const z = robustZ(size, recent, () => 1);
  const ok = Math.abs(z) <= maxZ;
  const shown = Number.isFinite(z) ? round(z) : 'infinite';
  return {
    name: 'size_vs_history',
    status: ok ? 'pass' : 'warn',
    observed: shown,
    threshold: maxZ,
    message: `size ${size} is ${shown} robust deviations from the median of the last ${recent.length} versions (at most ${maxZ})`,
  };
}

function churnCheck(entered: number, exited: number, previousSize: number, maxPct: number): CheckResult {
  // From empty, only entries count: a first version with members is all new.
  const churn = percentOfPrevious(previousSize === 0 ? entered : entered + exited, previousSize);
  const shown = Number.isFinite(churn) ? pct(churn) : 'all new';
  return {
    name: 'churn',
    status: churn <= maxPct ? 'pass' : 'warn',
    observed: observedPercent(churn),
    threshold: maxPct,
    message: `${entered} entered and ${exited} left, ${shown} of the previous ${previousSize} members (at most ${pct(maxPct)})`,
  };
}

/** `fail` holds a version; anything else publishes it. */
export function verdict(checks: readonly CheckResult[]): 'published' | 'held' {
  return checks.some((check) => check.status === 'fail') ? 'held' : 'published';
}
