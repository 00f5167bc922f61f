/**
 * The result of the source-check query: a few rows per source, read back from either engine.
 *
 * `grain` says what a row counts:
 * - `day`: one source on one UTC day (of `ts`; of `dt` for rows without a usable ts; rows dated
 *   before the window share the day before its first day);
 * - `source`: one source over the whole window (distinct counts are per source, not summed days);
 * - `lake`: every row of the window (the denominator for rows without a source);
 * - `identity`: one source of the identity map (`identity_keys`, `identity_conflicts`).
 *
 * Rows without a source are counted under the source {@link NO_SOURCE}.
 */
export interface SourceCheckRow {
  readonly grain: 'day' | 'source' | 'lake' | 'identity';
  /** The source; null on the `lake` row. */
  readonly source: string | null;
  /** Epoch day number (day 0 is 1970-01-01); set on `day` rows only. */
  readonly event_day: number | null;
  /** Rows in the window, valid or not (rows at or after T are invisible). */
  readonly row_count: number;
  /** Valid rows in the window, copies of an event_id included. */
  readonly valid_rows: number;
  /** Distinct event_ids among the valid rows in the window. */
  readonly events: number;
  /** Invalid rows in the window (a row with several problems counts once here, once per kind below). */
  readonly invalid_rows: number;
  readonly missing_event_id: number;
  readonly missing_source: number;
  /** user_id missing, or nothing but white space (it normalizes to empty). */
  readonly missing_user_id: number;
  readonly missing_event_name: number;
  /** ts missing or unparsable. */
  readonly missing_ts: number;
  /** Rows with a ts before T, in the window's partitions, whose dt is more than one day from the UTC date of ts. */
  readonly dt_mismatch: number;
  /** Distinct valid events whose (source, normalized user_id) has no identity row (any copy). */
  readonly unmapped_events: number;
  /** The latest valid ts before T in the partitions read (epoch ms); null when there is none. */
  readonly latest_ms: number | null;
  /** `identity` rows: identity keys (source, normalized user_id) with a non-empty person_id. */
  readonly identity_keys: number;
  /** `identity` rows: keys that map to more than one person_id. */
  readonly identity_conflicts: number;
}

/** The source under which rows without a source (missing or empty) are counted. */
export const NO_SOURCE = '(none)';

/** The counters of a row, in the query's column order (after grain, source and event_day). */
export const COUNT_COLUMNS = [
  'row_count',
  'valid_rows',
  'events',
  'invalid_rows',
  'missing_event_id',
  'missing_source',
  'missing_user_id',
  'missing_event_name',
  'missing_ts',
  'dt_mismatch',
  'unmapped_events',
] as const;

/** Every column of the query's result, in order. */
export const SOURCE_CHECK_COLUMNS = [
  'grain',
  'source',
  'event_day',
  ...COUNT_COLUMNS,
  'latest_ms',
  'identity_keys',
  'identity_conflicts',
] as const;

const GRAINS = new Set(['day', 'source', 'lake', 'identity']);

/** A number from an engine: DuckDB gives bigint, Athena gives text. */
function numeric(value: unknown, column: string): number | null {
  if (value === null || value === undefined) return null;
  const number = typeof value === 'bigint' ? Number(value) : typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number))
    throw new Error(`source checks: column ${column} is not a number: ${String(value)}`);
  return number;
}

/**
 * Reads the query's rows as either engine returns them (column name to value; numbers as
 * number, bigint or text). Missing counts are 0.
 */
export function readSourceCheckRows(records: readonly Readonly<Record<string, unknown>>[]): SourceCheckRow[] {
  return records.map((record) => {
    const grain = record.grain;
    if (typeof grain !== 'string' || !GRAINS.has(grain)) throw new Error(`source checks: unexpected grain ${String(grain)}`);
    const source = record.source;
    const counts = Object.fromEntries(
      [...COUNT_COLUMNS, 'identity_keys', 'identity_conflicts'].map((column) => [column, numeric(record[column], column) ?? 0]),
    ) as Record<(typeof COUNT_COLUMNS)[number] | 'identity_keys' | 'identity_conflicts', number>;
    return {
      grain: grain as SourceCheckRow['grain'],
      source: source === null || source === undefined ? null : String(source),
      event_day: numeric(record.event_day, 'event_day'),
      latest_ms: numeric(record.latest_ms, 'latest_ms'),
      ...counts,
    };
  });
}
