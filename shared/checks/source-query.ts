import type { LakeRelations } from '../compiler/compile-refresh.ts';
import { normalizedIdSql } from '../compiler/normalize-id.ts';
import type { Dialect } from '../compiler/dialect.ts';
import { doubleLiteral, integerLiteral, stringLiteral } from '../compiler/sql-text.ts';
import { COUNT_COLUMNS, NO_SOURCE, SOURCE_CHECK_COLUMNS } from './source-rows.ts';
import { DAY_MS, dayText, type SourceCheckWindow, sourceCheckWindow } from './source-window.ts';

/** What to compile: the source checks of one refresh. */
export interface SourceCheckRequest {
  readonly asOf: Date;
  readonly lake: LakeRelations;
  readonly dialect: Dialect;
  /**
   * The identity map's keys kept between runs, read in place of normalizing the map in the query;
   * the query then returns no `identity` rows (the caller keeps them beside the keys).
   * @default - the query normalizes `lake.identities` and counts its keys
   */
  readonly identityKeys?: IdentityKeyRelation;
  /**
   * Reads only these `dt` partitions of the window (YYYY-MM-DD; `lake.events` should hold only
   * their files; `dt IN` their literals, which Athena's partition projection prunes by) and returns each one's part of the window's rows apart, its date in the column
   * `part` (what source-check-parts.ts adds up). @default - every partition of the window, together
   */
  readonly parts?: readonly string[];
}

/** The identity keys (source, normalized user_id) of the lake's identity map, kept between runs. */
export interface IdentityKeyRelation {
  /** A relation with the columns `source` and `user_key` (`keyOf` of the normalized user id), one row per key. */
  readonly relation: string;
  /** The key of a normalized user id as the relation holds it. */
  readonly keyOf: (column: string) => string;
}

/** The one source-check query and what it reads. */
export interface CompiledSourceChecks {
  /** Returns the rows of source-rows.ts (columns SOURCE_CHECK_COLUMNS). */
  readonly sql: string;
  /** The `dt` partitions of the events read (both ends included). */
  readonly partitions: { readonly from: string; readonly to: string };
  readonly window: SourceCheckWindow;
  /**
   * By parts (`parts` given), in ONE statement (Athena bills at least 10 MB a query), each row
   * tagged by `kind` ({@link PartRowKind}) with its partition in `part`, the columns
   * {@link PARTS_COLUMNS}: the rows of {@link sql} (`rows`); the latest and earliest ts of any row
   * read, valid or not, before T or not (`span`: `newest_ms`, `oldest_ms`, epoch ms); and the
   * valid events of the window, one per (source, event_id), as the digest `keyOf` gives (`key`:
   * source-check-parts.ts tells from them whether two partitions share an event). Each
   * branch reads the partitions (Trino reads a WITH query once per use); the digests' joins no
   * identity key (a digest does not depend on it).
   */
  readonly byParts: (keyOf: (source: string, eventId: string) => string) => string;
}

/** What a row of CompiledSourceChecks.byParts holds: a row of the checks, a partition's ts span, or an event digest. */
export type PartRowKind = 'rows' | 'span' | 'key';

/** The columns of CompiledSourceChecks.byParts, in order. */
export const PARTS_COLUMNS = ['kind', 'part', ...SOURCE_CHECK_COLUMNS, 'newest_ms', 'oldest_ms', 'key'] as const;

/**
 * Compiles every source check of a refresh into ONE query over the narrow columns (event_id,
 * source, user_id, event_name, ts, dt; never properties or value) of the `dt` partitions of the
 * window (28 days of history, the last full day and T's own day, with a day of slack on each side),
 * plus the identity map. It returns a few rows per source (see source-rows.ts): valid events per
 * UTC day, invalid rows by kind, duplicate and unmapped events, dt/ts mismatches, the latest valid
 * ts, and identity conflicts.
 *
 * Freshness reads only these partitions, not all history: an age beyond the window is beyond every
 * freshness level the config accepts (MAX_FRESHNESS_HOURS), so the verdict is the same, and a
 * maximum over all history would read the whole lake on every run (JSON Lines cannot skip columns).
 *
 * The events are read once: every counter is a filtered aggregate of the same scan; a first
 * aggregation folds the copies of each event into one row (so duplicates cost one grouping, not
 * a DISTINCT per counter), and ROLLUP gives the per-day, per-source and lake-wide rows of a
 * second. The identity map (small beside the events) is read twice: for the unmapped join and
 * for the conflict counts (Trino does not share a WITH query between its uses).
 */
export function compileSourceChecks(request: SourceCheckRequest): CompiledSourceChecks {
  const d = request.dialect;
  const window = sourceCheckWindow(request.asOf);
  const T = d.timestamp(window.endMs);
  const start = d.timestamp(window.startMs);
  const epoch = d.timestamp(0);
  const { undatedPartitions: undated } = window;
  const parts = request.parts;
  const partitions = parts === undefined ? window.partitions : { from: [...parts].sort()[0] ?? '', to: [...parts].sort().at(-1) ?? '' };
  const dt = parts === undefined ? '' : 'dt, ';
  const inUndated = `(dt >= ${stringLiteral(undated.from)} AND dt <= ${stringLiteral(undated.to)})`;
  const beforeWindow = integerLiteral(window.firstDay - 1);
  const counted = (condition: string, alias: string) => `count(*) FILTER (WHERE ${condition}) AS ${alias}`;
  const summed = (column: string) => `CAST(sum(${column}) AS BIGINT) AS ${column}`;

  const kept = request.identityKeys;
  const identityKeys = kept
    ? `identity_keys AS (\n  SELECT source, user_key FROM ${kept.relation} AS kept_identity_keys\n)`
    : `identity_keys AS (\n${identityKeysSql(d, request.lake.identities)}\n)`;
  const joinedKey = kept ? kept.keyOf('e.user_key') : 'e.user_key';
  const scanned =
    `scanned AS (\n  SELECT event_id, source, ${normalizedIdSql(d, 'user_id')} AS user_key, event_name, ts, dt\n` +
    `  FROM ${request.lake.events} AS lake_events\n` +
    `  WHERE ${parts === undefined ? `dt >= ${stringLiteral(partitions.from)} AND dt <= ${stringLiteral(partitions.to)}` : `dt IN (${[...parts].sort().map(stringLiteral).join(', ')})`}\n)`;
  // The digests' chain of byParts (digest_*) is the same without the identity join.
  const flaggedAs = (name: string, joined: boolean) =>
    `${name} AS (\n  SELECT CASE WHEN e.source IS NULL OR e.source = '' THEN ${stringLiteral(NO_SOURCE)} ELSE e.source END AS src,\n` +
    `    e.event_id, e.user_key, e.ts, e.dt,\n` +
    `    (e.event_id IS NULL OR e.event_id = '') AS no_event_id,\n` +
    `    (e.source IS NULL OR e.source = '') AS no_source,\n` +
    `    (e.user_key IS NULL OR e.user_key = '') AS no_user_id,\n` +
    `    (e.event_name IS NULL OR e.event_name = '') AS no_event_name,\n` +
    `    (e.ts IS NULL) AS no_ts,\n` +
    `    CAST(floor(date_diff('millisecond', ${epoch}, e.ts) / ${doubleLiteral(DAY_MS)}) AS BIGINT) AS ts_day,\n` +
    `    date_diff('day', DATE ${stringLiteral(dayText(0))}, TRY_CAST(e.dt AS DATE)) AS dt_day,\n` +
    `    ${joined ? '(m.user_key IS NULL)' : 'FALSE'} AS unmapped\n` +
    `  FROM scanned AS e\n${joined ? `  LEFT JOIN identity_keys AS m ON m.source = e.source AND m.user_key = ${joinedKey}\n` : ''}` +
    `  WHERE e.ts IS NULL OR e.ts < ${T}\n)`;
  const flagged = flaggedAs('flagged', true);
  const classifiedAs = (name: string, from: string) =>
    `${name} AS (\n  SELECT ${dt}src, event_id, ts, unmapped, no_event_id, no_source, no_user_id, no_event_name, no_ts,\n` +
    `    NOT (no_event_id OR no_source OR no_user_id OR no_event_name OR no_ts) AS valid,\n` +
    `    CASE WHEN no_ts THEN ${inUndated} ELSE ts >= ${start} END AS in_window,\n` +
    `    (NOT no_ts AND ${inUndated} AND abs(ts_day - dt_day) > 1) AS off_partition,\n` +
    `    CASE WHEN no_ts THEN dt_day WHEN ts_day < ${integerLiteral(window.firstDay)} THEN ${beforeWindow} ELSE ts_day END AS event_day\n` +
    `  FROM ${from}\n)`;
  const classified = classifiedAs('classified', 'flagged');
  // A valid row in the window is one copy of an event: its group is the event (source, event_id),
  // dated by its earliest copy. Every other row is grouped by its day. One aggregation removes
  // duplicates for every count at once (cheaper than a DISTINCT per counter).
  const keyedAs = (name: string, from: string) =>
    `${name} AS (\n  SELECT *,\n    CASE WHEN valid AND in_window THEN event_id END AS event_key,\n` +
    `    CASE WHEN valid AND in_window THEN NULL ELSE event_day END AS day_key\n  FROM ${from}\n)`;
  const keyed = keyedAs('keyed', 'classified');
  const perKey =
    `per_key AS (\n  SELECT ${dt}src, event_key, min(event_day) AS event_day,\n    ` +
    [
      counted('in_window', 'row_count'),
      counted('in_window AND valid', 'valid_rows'),
      counted('in_window AND NOT valid', 'invalid_rows'),
      counted('in_window AND no_event_id', 'missing_event_id'),
      counted('in_window AND no_source', 'missing_source'),
      counted('in_window AND no_user_id', 'missing_user_id'),
      counted('in_window AND no_event_name', 'missing_event_name'),
      counted('in_window AND no_ts', 'missing_ts'),
      counted('off_partition', 'dt_mismatch'),
      counted('unmapped', 'unmapped_copies'),
      'max(ts) FILTER (WHERE valid) AS latest_ts',
    ].join(',\n    ') +
    `\n  FROM keyed\n  GROUP BY ${dt}src, event_key, day_key\n)`;
  const eventColumns = [
    `CASE grouping(src, event_day) WHEN 0 THEN 'day' WHEN 1 THEN 'source' ELSE 'lake' END AS grain`,
    'src AS source',
    'event_day',
    summed('row_count'),
    summed('valid_rows'),
    'count(event_key) AS events',
    ...['invalid_rows', 'missing_event_id', 'missing_source', 'missing_user_id', 'missing_event_name', 'missing_ts', 'dt_mismatch'].map(
      summed,
    ),
    counted('event_key IS NOT NULL AND unmapped_copies > 0', 'unmapped_events'),
    `date_diff('millisecond', ${epoch}, max(latest_ts)) AS latest_ms`,
    nullCount('identity_keys'),
    nullCount('identity_conflicts'),
  ];
  const partColumns = parts === undefined ? eventColumns : ['dt AS part', ...eventColumns];
  const grouping = `GROUP BY ${dt}ROLLUP (src, event_day)`;
  const events = `SELECT ${partColumns.join(',\n  ')}\nFROM per_key\n${grouping}`;
  const ctes = `WITH ${[identityKeys, scanned, flagged, classified, keyed, perKey].join(',\n')}\n`;
  const span = {
    newest_ms: `date_diff('millisecond', ${epoch}, max(ts)) AS newest_ms`,
    oldest_ms: `date_diff('millisecond', ${epoch}, min(ts)) AS oldest_ms`,
  };
  const byParts = (keyOf: (source: string, eventId: string) => string) => {
    // `key` is the digest's own type (a signed or unsigned 64-bit integer): a bare NULL elsewhere takes it.
    const typed = (column: string) =>
      column === 'key' ? 'NULL AS key' : `CAST(NULL AS ${column === 'grain' || column === 'source' ? 'VARCHAR' : 'BIGINT'}) AS ${column}`;
    const columns = (kind: PartRowKind, given: Readonly<Record<string, string>>) =>
      [`'${kind}' AS kind`, 'dt AS part', ...PARTS_COLUMNS.slice(2).map((column) => given[column] ?? typed(column))].join(', ');
    const rowColumns = Object.fromEntries(SOURCE_CHECK_COLUMNS.map((column, i) => [column, eventColumns[i] as string]));
    const digestCtes = [
      flaggedAs('digest_flagged', false),
      classifiedAs('digest_classified', 'digest_flagged'),
      keyedAs('digest_keyed', 'digest_classified'),
    ];
    return (
      `-- cohort-refresh: source checks by parts as of ${new Date(window.endMs).toISOString()}\n` +
      `WITH ${[identityKeys, scanned, flagged, classified, keyed, perKey, ...digestCtes].join(',\n')}\n` +
      `SELECT ${columns('rows', rowColumns)}\nFROM per_key\n${grouping}\nUNION ALL\n` +
      `SELECT ${columns('span', span)}\nFROM scanned\nGROUP BY dt\nUNION ALL\n` +
      `SELECT DISTINCT ${columns('key', { key: `${keyOf('src', 'event_key')} AS key` })}\nFROM digest_keyed\nWHERE event_key IS NOT NULL`
    );
  };
  const sql =
    `-- cohort-refresh: source checks as of ${new Date(window.endMs).toISOString()}, days ${dayText(window.firstDay)} to ${dayText(window.lastDay)}\n` +
    ctes +
    (kept ? events : `${events}\nUNION ALL\n${identityRowsSql}`);
  return {
    sql,
    partitions,
    window,
    byParts,
  };
}

/** One key per identity (source, normalized user_id) with a person_id; it conflicts when its person_ids differ. */
function identityKeysSql(d: Dialect, identities: string): string {
  return (
    `  SELECT source, user_key, min(person_id) <> max(person_id) AS conflicting\n` +
    `  FROM (SELECT source, ${normalizedIdSql(d, 'user_id')} AS user_key, person_id FROM ${identities} AS identities) AS i\n` +
    `  WHERE person_id IS NOT NULL AND person_id <> '' AND user_key IS NOT NULL AND user_key <> '' AND source IS NOT NULL\n` +
    `  GROUP BY source, user_key`
  );
}

const nullCount = (alias: string) => `CAST(NULL AS BIGINT) AS ${alias}`;

/** The `identity` rows of the source checks (identity keys and conflicts per source), from the CTE `identity_keys`. */
const identityRowsSql = `SELECT ${[
  `'identity' AS grain`,
  'source',
  nullCount('event_day'),
  ...[...COUNT_COLUMNS, 'latest_ms'].map(nullCount),
  'count(*) AS identity_keys',
  'count(*) FILTER (WHERE conflicting) AS identity_conflicts',
].join(',\n  ')}\nFROM identity_keys\nGROUP BY source`;

/** The `identity` rows of the source checks alone: what the query returns about the identity map. */
export function compileIdentityChecks(dialect: Dialect, identities: string): string {
  return `WITH identity_keys AS (\n${identityKeysSql(dialect, identities)}\n)\n${identityRowsSql}`;
}

/**
 * The identity keys the source checks join the events with, one row per (source, key), as
 * {@link IdentityKeyRelation} holds them (`keyOf` of the normalized user id).
 */
export function compileIdentityKeys(dialect: Dialect, identities: string, keyOf: (column: string) => string): string {
  return `SELECT DISTINCT source, ${keyOf('user_key')} AS user_key\nFROM (\n${identityKeysSql(dialect, identities)}\n) AS identity_keys`;
}
