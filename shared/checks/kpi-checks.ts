import type { KpiQualitySettings, ShiftLevels } from '../language/ast.ts';
import type { CheckResult, Kpis } from '../store/manifest.ts';
import { COHORT_CHECK_DEFAULTS, HISTORY_WINDOW, shiftRepeated } from './cohort-checks.ts';
import { adjustedShare, relativeSpread } from './robust-z.ts';
import { judgeOncePerShift } from './shift-once.ts';

/** What the KPI shift checks look at for one new version. */
export interface KpiCheckInput {
  readonly kpis: Kpis;
  /** The previous published version, when there is one (its KPIs absent when it predates them). */
  readonly previous?: { readonly version: number; readonly kpis?: Kpis };
  /** KPIs of earlier published versions, oldest first (the previous one included; absent: they predate KPIs). */
  readonly history: readonly (Kpis | undefined)[];
  readonly quality?: KpiQualitySettings;
}

/** Defaults for what a definition's `quality.kpis` does not set. Every shift only warns unless `fail` is set. */
export const KPI_CHECK_DEFAULTS = {
  /** Shares and means of fewer members are noise: one person moves a 10-member share by 10 points. */
  min_size: 30,
  /** Activation share against the previous published version, in percentage points. */
  activation_change: { warn: 10 },
  /** Value sum and mean against the previous published version, in percent. */
  value_change: { warn: 50 },
  /** |robust z| of each KPI against the history of versions (as for size). */
  history_z: { warn: COHORT_CHECK_DEFAULTS.max_history_z },
  /**
   * The value sum's and mean's spread in the history check is never below this percent of their median: at the
   * default z of 3.5, a move of less than 10.5% from the median never warns. Not a level: `history_z` keeps its meaning.
   */
  value_history_spread_pct: 3,
} as const;

/** One KPI the checks follow: how to read it, show it and measure a change of it. */
interface Kpi {
  readonly key: 'activation' | 'value_sum' | 'value_mean';
  readonly label: string;
  readonly metric: keyof Kpis['metrics'];
  readonly read: (kpis: Kpis) => number | null;
  readonly show: (value: number) => string;
  /** `points`: the difference in percentage points (a share); `pct`: the relative change in percent. */
  readonly change: 'points' | 'pct';
  /** The least spread of the KPI of a version like `kpis` around a median value (a share's sampling noise). */
  readonly noise?: (kpis: Kpis) => (median: number) => number;
}

/**
 * The standard deviation of the share of `kpis.size` members who did something, at a median share
 * (Agresti and Coull's two successes and two failures added, so that a median of 0% or 100% still
 * has a spread): a share is never steadier than that. Six versions at 64 of 64 members active have a
 * MAD of 0, which made 63 of 64 "infinite robust deviations"; its noise is 2.1 points.
 */
export const shareNoise = (kpis: Kpis) => (median: number) => {
  const share = adjustedShare(median, kpis.size);
  return Math.sqrt((share * (1 - share)) / kpis.size);
};

/**
 * The least spread of a value sum or mean: a share of its median (`value_history_spread_pct`). Replaying the
 * sample lake, steady sums had MADs of 0.1-0.3%, so one large purchase (+4.5% in a 178-member cohort with no
 * member change) scored 12.9 robust deviations; the two warned 54 times in 14 refreshes, 32 with this floor.
 */
const valueNoise = () => relativeSpread(KPI_CHECK_DEFAULTS.value_history_spread_pct);

const amounts = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const round = (value: number) => Math.round(value * 100) / 100;
const shareText = (share: number) => `${round(share * 100)}%`;

/** What the value sum and the value per member share. */
const VALUE = { metric: 'value', show: (v: number) => amounts.format(v), change: 'pct', noise: valueNoise } as const;

const KPIS: readonly Kpi[] = [
  {
    key: 'activation',
    label: 'activation share',
    metric: 'activation',
    read: (k) => k.activation_share,
    show: shareText,
    change: 'points',
    noise: shareNoise,
  },
  { ...VALUE, key: 'value_sum', label: 'value sum', read: (k) => k.value_sum },
  { ...VALUE, key: 'value_mean', label: 'value per member', read: (k) => k.value_mean },
];

/** Whether two versions computed a metric the same way (a changed metric is not a shift). */
const sameMetric = (a: Kpis, b: Kpis, metric: Kpi['metric']) => JSON.stringify(a.metrics[metric]) === JSON.stringify(b.metrics[metric]);

/** The fewest members a version's shares and means are compared at. An empty version has no share or mean to compare. */
export const kpiMinSize = (quality: KpiQualitySettings | undefined) => Math.max(1, quality?.min_size ?? KPI_CHECK_DEFAULTS.min_size);

/** Whether an earlier version's KPIs count in the history of every KPI of `kpis` (see historyCheck). */
export const comparableForEveryKpi = (kpis: Kpis, earlier: Kpis | undefined, minSize: number) =>
  earlier !== undefined && earlier.size >= minSize && KPIS.every((kpi) => sameMetric(kpis, earlier, kpi.metric));

function status(magnitude: number, levels: Required<Pick<ShiftLevels, 'warn'>> & ShiftLevels): CheckResult['status'] {
  if (levels.fail !== undefined && magnitude > levels.fail) return 'fail';
  return magnitude > levels.warn ? 'warn' : 'pass';
}

const levelText = (levels: ShiftLevels & { warn: number }, unit: string) =>
  `warns beyond ${levels.warn}${unit}${levels.fail === undefined ? '' : `, holds beyond ${levels.fail}${unit}`}`;

/**
 * Shifts of a version's KPIs (activation share, value sum, value per member), each against the
 * previous published version and against the history of published versions (robust z-score, as
 * for size). They warn by default; `quality.kpis` sets other levels and a `fail` that holds.
 * Versions with fewer than `min_size` members, or whose metric was configured differently, are
 * not compared: such checks pass and say why.
 */
export function kpiChecks(input: KpiCheckInput): CheckResult[] {
  const minSize = kpiMinSize(input.quality);
  const change = {
    activation: { ...KPI_CHECK_DEFAULTS.activation_change, ...input.quality?.activation_change },
    value: { ...KPI_CHECK_DEFAULTS.value_change, ...input.quality?.value_change },
  };
  const historyZ = { ...KPI_CHECK_DEFAULTS.history_z, ...input.quality?.history_z };
  const results: CheckResult[] = [];
  for (const kpi of KPIS) {
    if (input.previous)
      results.push(changeCheck(kpi, input.kpis, input.previous, kpi.metric === 'activation' ? change.activation : change.value, minSize));
  }
  for (const kpi of KPIS) results.push(historyCheck(kpi, input.kpis, input.history, historyZ, minSize));
  return results;
}

function changeCheck(
  kpi: Kpi,
  kpis: Kpis,
  previous: NonNullable<KpiCheckInput['previous']>,
  levels: ShiftLevels & { warn: number },
  minSize: number,
): CheckResult {
  const name = `kpi.${kpi.key}_change`;
  const unit = kpi.change === 'points' ? ' points' : '%';
  const threshold = levels.warn;
  const now = kpi.read(kpis);
  const skip = (why: string): CheckResult => ({
    name,
    status: 'pass',
    observed: now,
    threshold,
    message: `${kpi.label} not compared with v${previous.version}: ${why}`,
  });
  if (!previous.kpis) return skip(`that version predates KPIs`);
  if (!sameMetric(kpis, previous.kpis, kpi.metric)) return skip(`the ${kpi.metric} metric was configured differently then`);
  const smaller = Math.min(kpis.size, previous.kpis.size);
  if (smaller < minSize) return skip(`too few members (${smaller}, at least ${minSize} needed) for the ${kpi.label} to mean much`);
  const before = kpi.read(previous.kpis) as number;
  const after = now as number;
  const moved =
    kpi.change === 'points'
      ? (after - before) * 100
      : before === 0
        ? after === 0
          ? 0
          : Number.POSITIVE_INFINITY
        : ((after - before) / Math.abs(before)) * 100;
  const finite = Number.isFinite(moved);
  const shown = finite ? `${moved > 0 ? '+' : ''}${round(moved)}${unit}` : 'from 0';
  return {
    name,
    status: status(Math.abs(moved), levels),
    observed: finite ? round(moved) : 'infinite',
    threshold,
    message: `${kpi.label} moved from ${kpi.show(before)} in v${previous.version} to ${kpi.show(after)} (${shown}); ${levelText(levels, unit)}`,
  };
}

function historyCheck(
  kpi: Kpi,
  kpis: Kpis,
  history: KpiCheckInput['history'],
  levels: ShiftLevels & { warn: number },
  minSize: number,
): CheckResult {
  const name = `kpi.${kpi.key}_vs_history`;
  const now = kpi.read(kpis);
  const comparable = history
    .filter((k): k is Kpis => k !== undefined && k.size >= minSize && sameMetric(kpis, k, kpi.metric))
    .map((k) => kpi.read(k) as number);
  const skip = (why: string): CheckResult => ({
    name,
    status: 'pass',
    observed: now,
    threshold: null,
    message: `${kpi.label} not judged against the history: ${why}`,
  });
  if (kpis.size < minSize) return skip(`too few members (${kpis.size}, at least ${minSize} needed)`);
  const noise = kpi.noise?.(kpis);
  const judged = judgeOncePerShift([...comparable, now as number], {
    level: levels.warn,
    window: HISTORY_WINDOW,
    minHistory: COHORT_CHECK_DEFAULTS.min_history,
    ...(noise ? { noise } : {}),
  });
  if (judged.judgedAgainst < COHORT_CHECK_DEFAULTS.min_history) {
    return skip(`${judged.judgedAgainst} comparable earlier versions; the check starts at ${COHORT_CHECK_DEFAULTS.min_history}`);
  }
  const { z, reportedVersionsBack } = judged;
  const shown = Number.isFinite(z) ? round(z) : 'infinite';
  const measured = status(Math.abs(z), levels);
  // A shift already warned of is not warned again; a declared fail level stays a hard line.
  const repeated = measured === 'warn' && reportedVersionsBack !== undefined;
  const text = `${kpi.label} ${kpi.show(now as number)} is ${shown} robust deviations from the median of the last ${judged.judgedAgainst} versions; ${levelText(levels, '')}`;
  return {
    name,
    status: repeated ? 'pass' : measured,
    observed: shown,
    threshold: levels.warn,
    message: repeated ? `${text}; ${shiftRepeated(reportedVersionsBack)}` : text,
  };
}
