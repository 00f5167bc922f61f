import type { QualitySettings } from '../language/ast.ts';
import type { CheckResult } from '../store/manifest.ts';
import type { ChurnWarning } from './churn-warned.ts';
import { adjustedShare, median, relativeSpread, robustZ } from './robust-z.ts';
import { judgeOncePerShift } from './shift-once.ts';

/** What cohort checks look at for one new version. */
export interface CohortCheckInput {
  readonly size: number;
  /** The previous published version, if any. */
  readonly previous?: { readonly size: number; readonly definitionHash: string };
  /** Sizes of earlier published versions, oldest first (the previous one included). */
  readonly history: readonly number[];
  readonly entered: number;
  readonly exited: number;
  /** Churn of earlier published versions (see {@link versionChurn}), oldest first; first versions left out. */
  readonly churns?: readonly number[];
  /**
   * The churn warning the previous versions' run of churn above the default bound started from (see
   * churnWarnedBefore), if any: before the cohort has a churn history, a version that keeps that churn repeats it.
   */
  readonly churnWarned?: ChurnWarning;
  readonly definitionHash: string;
  readonly changeReason?: string;
  readonly quality?: QualitySettings;
}

/** Defaults for what a definition's `quality:` block does not set. */
export const COHORT_CHECK_DEFAULTS = {
  /** Warn when more than this share of the previous members entered or left... */
  max_churn_pct: 50,
  /**
   * ...unless, by default (no declared `max_churn_pct`), neither version has this many members, or the cohort's own
   * churn history (once `min_history` versions have one) holds such churn: see {@link cohortChecks}.
   */
  min_churn_size: 30,
  /** Warn beyond this robust z-score of size against the history of versions... */
  max_history_z: 3.5,
  /** ...and only once there are this many earlier versions... */
  min_history: 5,
  /** ...with a spread never below this percent of the median size (nor below one member): see the size history check. */
  min_size_spread_pct: 2,
} as const;

/** How many of the latest earlier versions the history checks (size and KPIs) judge a version against. */
export const HISTORY_WINDOW = 28;

const pct = (value: number) => `${Math.round(value * 10) / 10}%`;
const round = (value: number) => Math.round(value * 100) / 100;

/**
 * Cohort checks of SPEC section 6: declared bounds, change against the previous published
 * version and against the history of versions, churn of membership, an empty cohort, and a
 * definition that changed without a change_reason. Checks never change membership.
 *
 * Churn above the default 50% warns only where it says something: not for a cohort of fewer than
 * 30 members in both versions (6 moves in 10 are 60%), and not for a cohort whose churn is that
 * high as a rule (a "usage declining this week" cohort turns over most of its members every
 * week), judged like size against its last 28 versions with a least spread of the moves' binomial
 * noise. Before five versions show the cohort's churn, high churn warns once: a version whose churn stays
 * above 50% since the version that warned, within `max_history_z` binomial spreads of that churn, passes and
 * says so. A declared `max_churn_pct` is a hard line at every size.
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
  if (previous) results.push(churnCheck(input, previous.size, quality?.max_history_z ?? COHORT_CHECK_DEFAULTS.max_history_z));
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
  // A size is never steadier than one member, nor than 2% of its median: a cohort of 175 gaining 3 or 4 people after
  // versions within one or two of each other is ordinary growth (z 4.5 at a floor of one member), a halving is not.
  const relative = relativeSpread(COHORT_CHECK_DEFAULTS.min_size_spread_pct);
  const judged = judgeOncePerShift([...history, size], {
    level: maxZ,
    window: HISTORY_WINDOW,
    minHistory: COHORT_CHECK_DEFAULTS.min_history,
    noise: (center) => Math.max(1, relative(center)),
  });
  if (judged.judgedAgainst < COHORT_CHECK_DEFAULTS.min_history) {
    return {
      name: 'size_vs_history',
      status: 'pass',
      observed: size,
      threshold: null,
      message: `${judged.judgedAgainst} earlier versions; the history check starts at ${COHORT_CHECK_DEFAULTS.min_history}`,
    };
  }
  const { z, reportedVersionsBack } = judged;
  const shown = Number.isFinite(z) ? round(z) : 'infinite';
  const text = `size ${size} is ${shown} robust deviations from the median of the last ${judged.judgedAgainst} versions (at most ${maxZ})`;
  return {
    name: 'size_vs_history',
    status: Math.abs(z) <= maxZ || reportedVersionsBack !== undefined ? 'pass' : 'warn',
    observed: shown,
    threshold: maxZ,
    message: reportedVersionsBack === undefined ? text : `${text}: ${shiftRepeated(reportedVersionsBack)}`,
  };
}

/** Why a version out of its history passes: the shift it shows was reported, and it has not moved on since. */
export const shiftRepeated = (versionsBack: number) =>
  `the shift ${versionsBack === 1 ? 'the previous version' : `the version ${versionsBack} back`} warned of, not moved on since (not warned again)`;

/** The churn of a published version: who entered and left, in percent of the version it was compared with; none for a first version. */
export function versionChurn(version: {
  readonly size: number;
  readonly entered: number;
  readonly exited: number;
  readonly previous_version: number | null;
}): number | undefined {
  if (version.previous_version === null) return undefined;
  const previousSize = version.size - version.entered + version.exited;
  return previousSize === 0 ? undefined : ((version.entered + version.exited) / previousSize) * 100;
}

/**
 * The least spread of a churn percentage around `center` for a cohort of `n` members: the binomial
 * noise of that share of moves, with Agresti-Coull's two and two added (never 0 at 0% or 100%).
 */
function churnNoise(center: number, n: number): number {
  const p = adjustedShare(Math.min(1, Math.max(0, center / 100)), n);
  return 100 * Math.sqrt((p * (1 - p)) / (n + 4));
}

function churnCheck(input: CohortCheckInput, previousSize: number, maxZ: number): CheckResult {
  const { entered, exited, size } = input;
  const declared = input.quality?.max_churn_pct;
  const maxPct = declared ?? COHORT_CHECK_DEFAULTS.max_churn_pct;
  // From empty, only entries count: a first version with members is all new.
  const churn = percentOfPrevious(previousSize === 0 ? entered : entered + exited, previousSize);
  const shown = Number.isFinite(churn) ? pct(churn) : 'all new';
  const moved = `${entered} entered and ${exited} left, ${shown} of the previous ${previousSize} members`;
  const result = (status: CheckResult['status'], why: string): CheckResult => ({
    name: 'churn',
    status,
    observed: observedPercent(churn),
    threshold: maxPct,
    message: `${moved} (${why})`,
  });
  if (churn <= maxPct) return result('pass', `at most ${pct(maxPct)}`);
  if (declared !== undefined) return result('warn', `at most ${pct(maxPct)}`);
  const floor = COHORT_CHECK_DEFAULTS.min_churn_size;
  if (previousSize < floor && size < floor) {
    return result('pass', `above ${pct(maxPct)}, but churn is judged from ${floor} members unless quality.max_churn_pct is set`);
  }
  const recent = (input.churns ?? []).slice(-HISTORY_WINDOW);
  if (recent.length < COHORT_CHECK_DEFAULTS.min_history) {
    const warned = input.churnWarned;
    if (warned === undefined || churn > warned.churn + maxZ * churnNoise(warned.churn, Math.max(1, previousSize)))
      return result('warn', `at most ${pct(maxPct)}`);
    return result(
      'pass',
      `above ${pct(maxPct)} as in every version since version ${warned.version}, which warned of it (not warned again until ${COHORT_CHECK_DEFAULTS.min_history} versions show this cohort's usual churn)`,
    );
  }
  const z = robustZ(churn, recent, (center) => churnNoise(center, Math.max(1, previousSize)));
  const usual = `this cohort's median churn is ${pct(median(recent))} over its last ${recent.length} versions`;
  const shownZ = Number.isFinite(z) ? round(z) : 'infinite';
  return z <= maxZ
    ? result('pass', `above ${pct(maxPct)}, but ${usual} (robust z ${shownZ}, at most ${maxZ})`)
    : result('warn', `above ${pct(maxPct)}, and ${shownZ} robust deviations above what is usual: ${usual}`);
}

/** `fail` holds a version; anything else publishes it. */
export function verdict(checks: readonly CheckResult[]): 'published' | 'held' {
  return checks.some((check) => check.status === 'fail') ? 'held' : 'published';
}
