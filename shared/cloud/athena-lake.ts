import { athenaDialect } from '../compiler/athena-dialect.ts';
import type { LakeRelations } from '../compiler/compile-refresh.ts';
import { identifier, UnsafeSqlValueError } from '../compiler/sql-text.ts';

/** The Glue database and tables of the lake, as the `CohortRefresh` construct creates them. */
export interface AthenaLakeOptions {
  /** The Glue database (the construct's `databaseName`, `cohort_refresh` by default). */
  readonly database: string;
  /**
   * The JSON Lines events table.
   *
   * @default 'events_json'
   */
  readonly eventsJsonTable?: string;
  /**
   * The Parquet events table.
   *
   * @default 'events_parquet'
   */
  readonly eventsParquetTable?: string;
  /**
   * The identity map table.
   *
   * @default 'identities'
   */
  readonly identitiesTable?: string;
}

/**
 * The only timestamp spelling JSONL may use (SPEC section 1), as in the DuckDB lake. `[0-9]` and
 * `[.]` rather than `\d` and `\.`: no question of Unicode digits or of backslashes in literals.
 */
const ISO_TS = '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})';

const NAME = /^[a-z][a-z0-9_]{0,127}$/;

/** A quoted Glue name; only lower snake_case, as Glue stores names lower-cased anyway. */
function glueName(kind: string, name: string): string {
  if (!NAME.test(name)) throw new UnsafeSqlValueError(`${kind} must be a lower snake_case name, got ${JSON.stringify(name)}`);
  return identifier(name);
}

/**
 * Athena relations over the lake's Glue tables, in the shape the compiler expects.
 *
 * `events_json` and `events_parquet` read the same `dt=` folders, and Athena hands a table every
 * object in them whatever its extension; each half therefore keeps only its own files by
 * `"$path"`, so a folder may mix formats. JSONL `ts` is text: only the SPEC's spelling is parsed
 * (`try` makes a well-spelled impossible instant such as month 13 NULL instead of failing the
 * query); fractions have at most 6 digits, so narrowing the nanosecond result to microseconds
 * never rounds. Parquet `ts` is a UTC timestamp without zone and is read as such.
 */
export function athenaLakeRelations(options: AthenaLakeOptions): LakeRelations {
  const database = glueName('database', options.database);
  const table = (kind: string, name: string) => `${database}.${glueName(kind, name)}`;
  const json = table('eventsJsonTable', options.eventsJsonTable ?? 'events_json');
  const parquet = table('eventsParquetTable', options.eventsParquetTable ?? 'events_parquet');
  const identities = table('identitiesTable', options.identitiesTable ?? 'identities');

  const jsonTs =
    `CASE WHEN ${athenaDialect.fullMatch('ts', ISO_TS)} ` +
    'THEN CAST(try(from_iso8601_timestamp_nanos(ts)) AS timestamp(6) with time zone) END';
  const jsonEvents =
    `SELECT event_id, source, user_id, event_name, ${jsonTs} AS ts, ` +
    'CAST(properties AS VARCHAR) AS properties, CAST(value AS DOUBLE) AS value, dt ' +
    `FROM ${json} WHERE ("$path" LIKE '%.jsonl' OR "$path" LIKE '%.jsonl.gz')`;
  const parquetEvents =
    'SELECT event_id, source, user_id, event_name, ' +
    "CAST(with_timezone(ts, 'UTC') AS timestamp(6) with time zone) AS ts, " +
    'CAST(properties AS VARCHAR) AS properties, CAST(value AS DOUBLE) AS value, dt ' +
    `FROM ${parquet} WHERE "$path" LIKE '%.parquet'`;

  return {
    events: `(${jsonEvents} UNION ALL ${parquetEvents})`,
    identities,
  };
}
