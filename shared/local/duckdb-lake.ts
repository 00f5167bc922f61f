import type { LakeRelations } from '../compiler/compile-refresh.ts';
import { duckdbDialect } from '../compiler/duckdb-dialect.ts';
import { jsonlEventsQuery, jsonlIdentitiesQuery } from '../compiler/jsonl-columns.ts';
import { stringLiteral } from '../compiler/sql-text.ts';
import type { LakeFiles } from './lake-files.ts';

/**
 * A file name as a DuckDB path pattern matching only itself: DuckDB expands `*`, `?` and `[..]`
 * in every path it is given, so `lake[1]` would read `lake1`; each becomes a one-character class.
 */
export const literalPath = (file: string) => file.replace(/[[*?]/g, (c) => `[${c}]`);

/** The exact files found (findLakeFiles), never a pattern built from the lake folder. */
const fileList = (files: readonly string[]) => `[${files.map((f) => stringLiteral(literalPath(f))).join(', ')}]`;

/**
 * Each line of the files as one VARCHAR column `line`, exactly as written: no quoting, no
 * escaping, and the delimiter of Hive's LazySimpleSerDe (the Athena table: \x01, after which a
 * line's text is not part of the column). `\N` is NULL as there; blank lines are dropped by the
 * JSONL queries. `.jsonl.gz` files are decompressed by their extension.
 */
const lines = (files: readonly string[], hive: boolean) =>
  `read_csv(${fileList(files)}, columns = {'line': 'VARCHAR'}, delim = chr(1), quote = '', escape = '', nullstr = '\\N', ` +
  `header = false, auto_detect = false, strict_mode = false${hive ? ", hive_partitioning = true, hive_types = {'dt': VARCHAR}" : ''})`;

const EMPTY_EVENTS =
  'SELECT NULL::VARCHAR AS event_id, NULL::VARCHAR AS source, NULL::VARCHAR AS user_id, NULL::VARCHAR AS event_name, ' +
  'NULL::TIMESTAMP AS ts, NULL::VARCHAR AS properties, NULL::DOUBLE AS value, NULL::VARCHAR AS dt WHERE false';

function parquetEvents(files: readonly string[]): string {
  return (
    'SELECT CAST(event_id AS VARCHAR) AS event_id, CAST(source AS VARCHAR) AS source, CAST(user_id AS VARCHAR) AS user_id, ' +
    `CAST(event_name AS VARCHAR) AS event_name, make_timestamp(epoch_us(ts)) AS ts, ${duckdbDialect.propertiesOfText('CAST(properties AS VARCHAR)')} AS properties, ` +
    `CAST(value AS DOUBLE) AS value, dt FROM read_parquet(${fileList(files)}, hive_partitioning = true, hive_types = {'dt': VARCHAR}, union_by_name = true)`
  );
}

function identities(files: LakeFiles['identities']): string {
  const parts: string[] = [];
  if (files.parquet.length > 0) {
    parts.push(
      `SELECT CAST(source AS VARCHAR) AS source, CAST(user_id AS VARCHAR) AS user_id, CAST(person_id AS VARCHAR) AS person_id FROM read_parquet(${fileList(files.parquet)}, union_by_name = true)`,
    );
  }
  if (files.jsonl.length > 0) parts.push(jsonlIdentitiesQuery(duckdbDialect, { from: lines(files.jsonl, false), line: 'line' }));
  if (parts.length === 0) parts.push('SELECT NULL::VARCHAR AS source, NULL::VARCHAR AS user_id, NULL::VARCHAR AS person_id WHERE false');
  return `(${parts.join(' UNION ALL ')})`;
}

/** DuckDB relations over a local lake's files, in the shape the compiler expects. */
export function duckdbLakeRelations(files: LakeFiles): LakeRelations {
  const events: string[] = [];
  if (files.events.parquet.length > 0) events.push(parquetEvents(files.events.parquet));
  if (files.events.jsonl.length > 0) {
    events.push(jsonlEventsQuery(duckdbDialect, { from: lines(files.events.jsonl, true), line: 'line', keep: ['dt'] }));
  }
  if (events.length === 0) events.push(EMPTY_EVENTS);
  return { events: `(${events.join(' UNION ALL ')})`, identities: identities(files.identities) };
}
