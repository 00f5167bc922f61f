import { identifier } from '../compiler/sql-text.ts';
import { POPULATION_COLUMNS } from '../tiles/population-sql.ts';
import { TILE_COLUMNS } from '../tiles/tile-sql.ts';

/** A column of a Glue table over Parquet written by Athena: Hive type name, and what it holds. */
export interface StoredColumn {
  readonly name: string;
  readonly type: string;
  readonly comment?: string;
}

/** The Glue table of the daily tiles (partitioned by `day`) and that of the contested copies. */
export const TILES_TABLE = 'tiles';
export const TILES_CONTESTED_TABLE = 'tiles_contested';
/** The Glue table of the index of counted ids (id-index-sql.ts), partitioned by `day`. */
export const TILES_IDS_TABLE = 'tiles_ids';
/** The columns of {@link TILES_IDS_TABLE} (`day` is its partition key, TILE_DAY_COLUMN). */
export const IDS_TABLE_COLUMNS: readonly StoredColumn[] = [{ name: 'event_id', type: 'string' }];
/** The Glue table of the population index of the tiles (population-sql.ts), not partitioned. */
export const TILES_POPULATION_TABLE = 'tiles_population';
/**
 * The Glue table of the identity map's keys the source checks join (athena-identity-keys.ts),
 * partitioned by an injected `version`.
 */
export const IDENTITY_KEYS_TABLE = 'identity_keys';
/** The columns of {@link IDENTITY_KEYS_TABLE} (compileIdentityKeys; `version` is its partition key). */
export const IDENTITY_KEYS_COLUMNS: readonly StoredColumn[] = [
  { name: 'source', type: 'string' },
  { name: 'user_key', type: 'string', comment: 'MD5 (hex) of the normalized user id' },
];

/**
 * How an instant is stored: as Athena's text of a `timestamp(6) with time zone` (`2026-01-05
 * 10:00:00.123456 UTC`). A Hive table cannot hold a zoned timestamp, and Athena reads a Hive
 * `timestamp` at millisecond precision; the text casts back to the very microsecond.
 */
const INSTANT_COMMENT = "an instant as Athena's text of timestamp(6) with time zone, e.g. 2026-01-05 10:00:00.123456 UTC";
const storeInstant = (column: string) => `CAST(${column} AS VARCHAR)`;
const readInstant = (column: string) => `CAST(${column} AS timestamp(6) with time zone)`;

const TILE_TYPES: Record<(typeof TILE_COLUMNS)[number], string> = {
  measure: 'string',
  source: 'string',
  user_key: 'string',
  n: 'bigint',
  total: 'double',
  abs_total: 'double',
  integral: 'boolean',
  value: 'string',
  latest_ts: 'string',
  latest_event_id: 'string',
  latest_json: 'string',
};

/** The columns of {@link TILES_TABLE}, in TILE_COLUMNS order (`day` is its partition key). */
export const TILE_TABLE_COLUMNS: readonly StoredColumn[] = TILE_COLUMNS.map((name) => ({
  name,
  type: TILE_TYPES[name],
  ...(name === 'latest_ts' ? { comment: INSTANT_COMMENT } : {}),
}));

/** The partition key of {@link TILES_TABLE}. */
export const TILE_DAY_COLUMN: StoredColumn = { name: 'day', type: 'string', comment: 'the UTC day of the events, yyyy-MM-dd' };

/** The columns of {@link TILES_CONTESTED_TABLE}: the lake's events columns (contestedCopiesSql). */
export const CONTESTED_TABLE_COLUMNS: readonly StoredColumn[] = [
  { name: 'event_id', type: 'string' },
  { name: 'source', type: 'string' },
  { name: 'user_id', type: 'string' },
  { name: 'event_name', type: 'string' },
  { name: 'ts', type: 'string', comment: INSTANT_COMMENT },
  { name: 'properties', type: 'string' },
  { name: 'value', type: 'double' },
  { name: 'dt', type: 'string' },
];

/** The columns of {@link TILES_POPULATION_TABLE}: POPULATION_COLUMNS, all text (days as yyyy-MM-dd). */
export const POPULATION_TABLE_COLUMNS: readonly StoredColumn[] = POPULATION_COLUMNS.map((name) => ({ name, type: 'string' }));

const INSTANTS = new Set(['latest_ts', 'ts']);

/** The select list that writes a relation's columns into a stored table (instants as text). */
export function storedSelect(columns: readonly StoredColumn[]): string {
  return columns
    .map(({ name }) => (INSTANTS.has(name) ? `${storeInstant(identifier(name))} AS ${identifier(name)}` : identifier(name)))
    .join(', ');
}

/** The select list that reads a stored table back with the types the SQL builders wrote (instants as instants). */
export function readSelect(columns: readonly StoredColumn[]): string {
  return columns
    .map(({ name }) => (INSTANTS.has(name) ? `${readInstant(identifier(name))} AS ${identifier(name)}` : identifier(name)))
    .join(', ');
}
