import type { ProjectConfig } from '../config/schema.ts';
import type { CheckResult } from '../store/manifest.ts';
import { counted, levelFor, levelStatus, levelsText, num, pct, rounded, share, worstStatus } from './source-format.ts';
import { NO_SOURCE, type SourceCheckRow } from './source-rows.ts';
import { type RobustScore, robustScore } from './source-volume.ts';
import { dayText, type SourceCheckWindow, sourceCheckWindow } from './source-window.ts';

/** The checks of one source (or of rows without a source, under NO_SOURCE). */
export interface SourceCheckGroup {
  readonly source: string;
  readonly checks: readonly CheckResult[];
  /** The worst status of its checks. */
  readonly status: CheckResult['status'];
}

/** Every source check of one refresh (SPEC section 6). Checks never change membership. */
export interface SourceCheckReport {
  readonly as_of: string;
  /** The days checked: 28 days of history (`from`) through the last full UTC day (`last_day`). */
  readonly days: { readonly from: string; readonly last_day: string };
  /** Per source, by name. */
  readonly sources: readonly SourceCheckGroup[];
  /** Lake-wide checks: `identity.conflicts`. */
  readonly lake: readonly CheckResult[];
  /** The worst status of every check. */
  readonly status: CheckResult['status'];
}

const HOUR_MS = 3_600_000;

/** Everything the query returned about one source. */
interface SourceFacts {
  readonly name: string;
  /** The `source` row; undefined when the source had no row in the partitions read. */
  readonly totals: SourceCheckRow | undefined;
  /** Distinct valid events per epoch day. */
  readonly perDay: ReadonlyMap<number, number>;
  /** Identity keys of this source in the identity map. */
  readonly identityKeys: number;
}

/**
 * Turns the source-check query's rows into checks: per source `source.freshness`, `source.volume`,
 * `source.invalid_rows`, `source.duplicates`, `source.unmapped_ids` and `source.dt_mismatch`
 * (rows without a source get `source.invalid_rows` and `source.dt_mismatch` under NO_SOURCE), and
 * the lake-wide `identity.conflicts`. A source the config expects but the partitions read do not
 * hold fails its freshness. Every message starts with the source.
 */
export function sourceChecks(rows: readonly SourceCheckRow[], config: ProjectConfig, asOf: Date): SourceCheckReport {
  const window = sourceCheckWindow(asOf);
  const totals = new Map<string, SourceCheckRow>();
  const perDay = new Map<string, Map<number, number>>();
  const identityKeys = new Map<string, number>();
  let lake: SourceCheckRow | undefined;
  for (const row of rows) {
    if (row.grain === 'lake') lake = row;
    else if (row.source === null) continue;
    else if (row.grain === 'source') totals.set(row.source, row);
    else if (row.grain === 'identity') identityKeys.set(row.source, row.identity_keys);
    else if (row.event_day !== null) {
      const days = perDay.get(row.source) ?? new Map<number, number>();
      days.set(row.event_day, row.events);
      perDay.set(row.source, days);
    }
  }
  const expected = Object.entries(config.sources)
    .filter(([, settings]) => settings.expected)
    .map(([name]) => name);
  const names = [...new Set([...totals.keys(), ...expected])].sort();
  const sources = names.map((name): SourceCheckGroup => {
    const facts: SourceFacts = {
      name,
      totals: totals.get(name),
      perDay: perDay.get(name) ?? new Map(),
      identityKeys: identityKeys.get(name) ?? 0,
    };
    const checks =
      name === NO_SOURCE
        ? [invalidRows(facts, config, lake?.row_count ?? 0), dtMismatch(facts, config)]
        : [
            freshness(facts, config, window),
            volume(facts, config, window),
            invalidRows(facts, config),
            duplicates(facts, config),
            unmapped(facts, config),
            dtMismatch(facts, config),
          ];
    return { source: name, checks, status: worstStatus(checks.map((c) => c.status)) };
  });
  const lakeChecks = [identityConflicts(rows, config)];
  return {
    as_of: asOf.toISOString(),
    days: { from: dayText(window.firstDay), last_day: dayText(window.lastDay) },
    sources,
    lake: lakeChecks,
    status: worstStatus([...sources.map((s) => s.status), ...lakeChecks.map((c) => c.status)]),
  };
}

/** Latest valid event age against the source's SLA (hours). */
function freshness(facts: SourceFacts, config: ProjectConfig, window: SourceCheckWindow): CheckResult {
  const sla = config.sources[facts.name]?.freshness_hours ?? config.defaults.freshness_hours;
  const { warn, fail } = config.checks.freshness;
  const warnHours = sla * warn;
  const failHours = sla * fail;
  const latest = facts.totals?.latest_ms ?? null;
  if (latest === null) {
    const since = dayText(window.firstDay - 1);
    return {
      name: 'source.freshness',
      status: 'fail',
      observed: null,
      threshold: failHours,
      message: `${facts.name}: no valid event since ${since} (the partitions the checks read), SLA ${num(sla)} hours`,
    };
  }
  const age = (window.endMs - latest) / HOUR_MS;
  const status = age > failHours ? 'fail' : age > warnHours ? 'warn' : 'pass';
  const latestText = `${facts.name}: latest event ${rounded(age, 1).toFixed(1)} hours before as-of`;
  const slaText = warn === 1 ? `the SLA of ${num(sla)} hours` : `${num(warn)} times the SLA of ${num(sla)} hours`;
  const message =
    status === 'pass'
      ? `${latestText}, SLA ${num(sla)} hours`
      : status === 'warn'
        ? `${latestText}, past ${slaText}; fails past ${num(failHours)} hours`
        : `${latestText}, past ${num(failHours)} hours (${num(fail)} times the SLA of ${num(sla)} hours)`;
  return { name: 'source.freshness', status, observed: rounded(age, 1), threshold: status === 'fail' ? failHours : warnHours, message };
}

/** Same-weekday days the weekly baseline of `source.volume` needs (of the 4 in the trailing 28 days). */
const MIN_SAME_WEEKDAYS = 3;
const WEEKDAYS = ['Thursday', 'Friday', 'Saturday', 'Sunday', 'Monday', 'Tuesday', 'Wednesday'];

/**
 * Events of the last full UTC day against the trailing 28 days: robust z-score. Sources have a
 * weekly rhythm (a B2B product's weekends hold a fraction of a weekday's events), so the day is
 * also scored against the same weekday of the trailing weeks (at least 3 of the 4); the milder of
 * the two judges it: a quiet Saturday passes when Saturdays are quiet, an outage fails both.
 */
function volume(facts: SourceFacts, config: ProjectConfig, window: SourceCheckWindow): CheckResult {
  const { warn, fail, min_history_days: minDays } = config.checks.volume;
  const last = facts.perDay.get(window.lastDay) ?? 0;
  const history = Array.from({ length: window.lastDay - window.firstDay }, (_, i) => facts.perDay.get(window.firstDay + i) ?? 0);
  const score = robustScore(last, history);
  const lastText = `${facts.name}: ${counted(last, 'event')} on ${dayText(window.lastDay)}`;
  if (score === undefined || score.historyDays < minDays) {
    const had = score?.historyDays ?? 0;
    const needed = `${counted(had, 'day')} of the ${minDays} needed since the source's first event in the window`;
    return {
      name: 'source.volume',
      status: 'pass',
      observed: had,
      threshold: minDays,
      message: `${lastText}; not enough history to judge (${needed})`,
    };
  }
  const daily = { score, status: levelStatus(Math.abs(score.z), warn, fail), usual: `a day over ${score.historyDays} days` };
  const sameDays = history.filter((_, i) => (window.lastDay - window.firstDay - i) % 7 === 0);
  const weeklyScore = robustScore(last, sameDays);
  const weekly =
    weeklyScore === undefined || weeklyScore.historyDays < MIN_SAME_WEEKDAYS
      ? undefined
      : {
          score: weeklyScore,
          status: levelStatus(Math.abs(weeklyScore.z), warn, fail),
          usual: `on ${WEEKDAYS[window.lastDay % 7]}s over ${weeklyScore.historyDays} weeks`,
        };
  const milder = weekly !== undefined && weekly.status !== daily.status && worstStatus([weekly.status, daily.status]) === daily.status;
  const judged = milder ? weekly : daily;
  const { status } = judged;
  const direction = judged.score.z < 0 ? 'below' : 'above';
  const usual = `a median of ${num(judged.score.median)} ${judged.usual} (MAD ${num(judged.score.mad)}, ${zOf(judged.score)})`;
  const besides = judged === daily ? '' : ` (against every day: a median of ${num(score.median)} ${daily.usual}, ${zOf(score)})`;
  const message =
    status === 'pass'
      ? `${lastText}, in line with ${usual}${besides}`
      : `${lastText}, far ${direction} ${usual}${besides}; ${levelsText(`|z| ${num(warn)}`, num(fail))}`;
  return { name: 'source.volume', status, observed: rounded(judged.score.z, 2), threshold: levelFor(status, warn, fail), message };
}

/** A score's robust z, and its distance in Poisson noise where that one judged (see robustScore). */
function zOf(score: RobustScore): string {
  const z = (value: number) => rounded(value, 2).toFixed(2);
  return `robust z ${z(score.madZ)}${score.z === score.madZ ? '' : `; ${z(score.z)} in Poisson noise`}`;
}

const KINDS = [
  ['missing_event_id', 'without event_id'],
  ['missing_source', 'without source'],
  ['missing_user_id', 'without user_id (or blank)'],
  ['missing_event_name', 'without event_name'],
  ['missing_ts', 'with a missing or unparsable ts'],
] as const;

/** Invalid rows (SPEC section 1) as a share of the source's rows; rows without a source: of all rows. */
function invalidRows(facts: SourceFacts, config: ProjectConfig, lakeRows?: number): CheckResult {
  const { warn, fail } = config.checks.invalid_rows;
  const invalid = facts.totals?.invalid_rows ?? 0;
  const whole = lakeRows ?? facts.totals?.row_count ?? 0;
  const observed = share(invalid, whole);
  const status = invalid === 0 ? 'pass' : levelStatus(observed, warn, fail);
  const totals = facts.totals;
  const kinds = totals ? KINDS.filter(([column]) => totals[column] > 0).map(([column, text]) => `${num(totals[column])} ${text}`) : [];
  const subject =
    lakeRows === undefined
      ? `${facts.name}: ${num(invalid)} of ${counted(whole, 'row')} invalid`
      : `rows without a source: ${num(invalid)} of ${counted(whole, 'row')} in the lake`;
  const message =
    invalid === 0
      ? `${facts.name}: no invalid row among ${counted(whole, 'row')}`
      : `${subject} (${pct(observed)}): ${kinds.join(', ')}; they are left out of every cohort; ${levelsText(pct(warn), pct(fail))}`;
  return { name: 'source.invalid_rows', status, observed: rounded(observed, 2), threshold: levelFor(status, warn, fail), message };
}

/** Valid rows repeating an event_id, as a share of valid rows. */
function duplicates(facts: SourceFacts, config: ProjectConfig): CheckResult {
  const { warn, fail } = config.checks.duplicates;
  const valid = facts.totals?.valid_rows ?? 0;
  const repeats = valid - (facts.totals?.events ?? 0);
  const observed = share(repeats, valid);
  const status = repeats === 0 ? 'pass' : levelStatus(observed, warn, fail);
  const repeated = `${num(repeats)} of ${counted(valid, 'valid row')} repeat an event_id (${pct(observed)})`;
  const message =
    repeats === 0
      ? `${facts.name}: no duplicate event_id among ${counted(valid, 'valid row')}`
      : `${facts.name}: ${repeated}; each event counts once; ${levelsText(pct(warn), pct(fail))}`;
  return { name: 'source.duplicates', status, observed: rounded(observed, 2), threshold: levelFor(status, warn, fail), message };
}

/** Valid events whose user id has no identity row, where the source is expected in the identity map. */
function unmapped(facts: SourceFacts, config: ProjectConfig): CheckResult {
  const { warn, fail } = config.checks.unmapped_ids;
  const required = config.sources[facts.name]?.mapped ?? facts.identityKeys > 0;
  const events = facts.totals?.events ?? 0;
  const missing = facts.totals?.unmapped_events ?? 0;
  const observed = share(missing, events);
  if (!required) {
    return {
      name: 'source.unmapped_ids',
      status: 'pass',
      observed: rounded(observed, 2),
      threshold: null,
      message: `${facts.name}: not expected in the identity map (it has no row for this source), so its user ids are the person ids`,
    };
  }
  const status = missing === 0 ? 'pass' : levelStatus(observed, warn, fail);
  const unmappedText = `${num(missing)} of ${counted(events, 'event')} (${pct(observed)}) have no identity row`;
  const message =
    missing === 0
      ? `${facts.name}: all ${counted(events, 'event')} have an identity row`
      : `${facts.name}: ${unmappedText}, so those user ids stand as person ids; ${levelsText(pct(warn), pct(fail))}`;
  return { name: 'source.unmapped_ids', status, observed: rounded(observed, 2), threshold: levelFor(status, warn, fail), message };
}

/** Rows whose dt partition is more than one day from the UTC date of their ts. */
function dtMismatch(facts: SourceFacts, config: ProjectConfig): CheckResult {
  const { warn, fail } = config.checks.dt_mismatch;
  const count = facts.totals?.dt_mismatch ?? 0;
  const status = levelStatus(count, warn, fail);
  const misplaced = `${counted(count, 'row')} in a dt partition more than a day from the UTC date of their ts`;
  const message =
    count === 0
      ? `${facts.name}: every row's dt partition agrees with its ts (within a day)`
      : `${facts.name}: ${misplaced}; refreshes that read only recent partitions may miss them; ${countLevels(warn, fail)}`;
  return { name: 'source.dt_mismatch', status, observed: count, threshold: levelFor(status, warn, fail), message };
}

/** Identity keys (source, normalized user_id) mapping to several person_ids, lake-wide. */
function identityConflicts(rows: readonly SourceCheckRow[], config: ProjectConfig): CheckResult {
  const { warn, fail } = config.checks.identity_conflicts;
  const identity = rows.filter((row) => row.grain === 'identity');
  const conflicts = identity.reduce((sum, row) => sum + row.identity_conflicts, 0);
  const keys = identity.reduce((sum, row) => sum + row.identity_keys, 0);
  const status = levelStatus(conflicts, warn, fail);
  const bySource = identity
    .filter((row) => row.identity_conflicts > 0)
    .map((row) => `${row.source ?? NO_SOURCE}: ${num(row.identity_conflicts)}`)
    .sort();
  const conflicting = `${num(conflicts)} of ${counted(keys, 'identity key')} map to more than one person_id (${bySource.join(', ')})`;
  const message =
    conflicts === 0
      ? `no identity key maps to more than one person_id (${counted(keys, 'key')})`
      : `${conflicting}; the smallest person_id wins; ${countLevels(warn, fail)}`;
  return { name: 'identity.conflicts', status, observed: conflicts, threshold: levelFor(status, warn, fail), message };
}

/** The levels of a check that counts rows or keys, whose fail level is optional. */
function countLevels(warn: number, fail: number | undefined): string {
  return levelsText(num(warn), fail === undefined ? undefined : num(fail));
}

/** Layout warnings shown in full; the rest are counted. */
const SHOWN_WARNINGS = 5;

/**
 * Adds what the lake reader warned about (folders of `events/` it does not read, Parquet columns
 * read as NULL) as the lake-wide `lake.layout` check: a warning, which publishes and alerts.
 */
export function withLakeWarnings(report: SourceCheckReport, warnings: readonly string[]): SourceCheckReport {
  if (warnings.length === 0) return report;
  const more = warnings.length > SHOWN_WARNINGS ? `; and ${warnings.length - SHOWN_WARNINGS} more` : '';
  const check: CheckResult = {
    name: 'lake.layout',
    status: 'warn',
    observed: warnings.length,
    threshold: 0,
    message: `lake: ${warnings.slice(0, SHOWN_WARNINGS).join('; ')}${more}`,
  };
  return { ...report, lake: [...report.lake, check], status: worstStatus([report.status, check.status]) };
}
