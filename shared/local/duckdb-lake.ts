import { join } from 'node:path';
import type { LakeRelations } from '../compiler/compile-refresh.ts';
import { stringLiteral } from '../compiler/sql-text.ts';
import type { LakeFiles } from './lake-files.ts';

/** The only timestamp spelling JSONL may use (SPEC section 1); anything else is unparsable. */
const ISO_TS = '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,6})?(Z|[+-]\\d{2}:\\d{2})';

/**
 * Globs rather than file lists keep the lineage query short and let DuckDB prune `dt=`
 * partitions from the query's own filter, as Athena does with partition projection.
 */
const fileList = (globs: readonly string[]) => `[${globs.map(stringLiteral).join(', ')}]`;

const EMPTY_EVENTS =
  'SELECT NULL::VARCHAR AS event_id, NULL::VARCHAR AS source, NULL::VARCHAR AS user_id, NULL::VARCHAR AS event_name, ' +
  'NULL::TIMESTAMP AS ts, NULL::VARCHAR AS properties, NULL::DOUBLE AS value, NULL::VARCHAR AS dt WHERE false';

function parquetEvents(files: readonly string[]): string {
  return (
    'SELECT CAST(event_id AS VARCHAR) AS event_id, CAST(source AS VARCHAR) AS source, CAST(user_id AS VARCHAR) AS user_id, ' +
    'CAST(event_name AS VARCHAR) AS event_name, make_timestamp(epoch_us(ts)) AS ts, CAST(properties AS VARCHAR) AS properties, ' +
    `CAST(value AS DOUBLE) AS value, dt FROM read_parquet(${fileList(files)}, hive_partitioning = true, hive_types = {'dt': VARCHAR}, union_by_name = true)`
  );
}

function jsonlEvents(files: readonly string[]): string {
  // One parse for the five text fields, one for properties and value.
  return (
    'SELECT f[1] AS event_id, f[2] AS source, f[3] AS user_id, f[4] AS event_name, ' +
    `CASE WHEN regexp_full_match(f[5], ${stringLiteral(ISO_TS)}) THEN make_timestamp(epoch_us(TRY_CAST(f[5] AS TIMESTAMPTZ))) END AS ts, ` +
    "CAST(j[1] AS VARCHAR) AS properties, CASE WHEN json_type(j[2]) IN ('DOUBLE', 'BIGINT', 'UBIGINT', 'HUGEINT') THEN TRY_CAST(j[2] AS DOUBLE) END AS value, dt " +
    "FROM (SELECT json_extract_string(json, ['$.event_id', '$.source', '$.user_id', '$.event_name', '$.ts']) AS f, " +
    "json_extract(json, ['$.properties', '$.value']) AS j, dt " +
    `FROM read_ndjson_objects(${fileList(files)}, hive_partitioning = true, hive_types = {'dt': VARCHAR}, compression = 'auto_detect', ignore_errors = true))`
  );
}

function identities(files: LakeFiles['identities']): string {
  const parts: string[] = [];
  if (files.parquet.length > 0) {
    parts.push(
      `SELECT CAST(source AS VARCHAR) AS source, CAST(user_id AS VARCHAR) AS user_id, CAST(person_id AS VARCHAR) AS person_id FROM read_parquet(${fileList(files.parquet)}, union_by_name = true)`,
    );
  }
  if (files.jsonl.length > 0) {
    parts.push(
      "SELECT f[1] AS source, f[2] AS user_id, f[3] AS person_id FROM (SELECT json_extract_string(json, ['$.source', '$.user_id', '$.person_id']) AS f " +
        `FROM read_ndjson_objects(${fileList(files.jsonl)}, compression = 'auto_detect'))`,
    );
  }
  if (parts.length === 0) parts.push('SELECT NULL::VARCHAR AS source, NULL::VARCHAR AS user_id, NULL::VARCHAR AS person_id WHERE false');
  return `(${parts.join(' UNION ALL ')})`;
}

/** The globs that cover the files found, one per format and ending present. */
function eventGlobs(files: readonly string[], root: string): string[] {
  const endings = ['.parquet', '.jsonl', '.jsonl.gz'].filter((ending) => files.some((f) => f.endsWith(ending)));
  return endings.map((ending) => join(root, 'events', 'dt=*', `*${ending}`));
}

/** DuckDB relations over a local lake's files, in the shape the compiler expects. */
export function duckdbLakeRelations(files: LakeFiles): LakeRelations {
  const events: string[] = [];
  if (files.events.parquet.length > 0) events.push(parquetEvents(eventGlobs(files.events.parquet, files.root)));
  if (files.events.jsonl.length > 0) events.push(jsonlEvents(eventGlobs(files.events.jsonl, files.root)));
  if (events.length === 0) events.push(EMPTY_EVENTS);
  return { events: `(${events.join(' UNION ALL ')})`, identities: identities(files.identities) };
}
