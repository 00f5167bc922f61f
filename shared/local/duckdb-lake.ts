import type { LakeRelations } from '../compiler/compile-refresh.ts';
import { duckdbDialect } from '../compiler/duckdb-dialect.ts';
import { jsonlEventsQuery, jsonlIdentitiesQuery } from '../compiler/jsonl-columns.ts';
import { stringLiteral } from '../compiler/sql-text.ts';
import type { LakeFiles } from './lake-files.ts';
import type { ParquetColumns, ParquetSchemas } from './parquet-columns.ts';

/**
 * A file name as a DuckDB path pattern matching only itself: DuckDB expands `*`, `?` and `[..]`
 * in every path it is given, so `lake[1]` would read `lake1`; each becomes a one-character class.
 */
export const literalPath = (file: string) => file.replace(/[[*?]/g, (c) => `[${c}]`);

/** The exact files found (findLakeFiles), never a pattern built from the lake folder. */
export const fileList = (files: readonly string[]) => `[${files.map((f) => stringLiteral(literalPath(f))).join(', ')}]`;

/**
 * Each line of the files as one VARCHAR column `line`, exactly as written: no quoting, no
 * escaping, and the delimiter of Hive's LazySimpleSerDe (the Athena table: \x01, after which a
 * line's text is not part of the column). `\N` is NULL as there; blank lines are dropped by the
 * JSONL queries. `.jsonl.gz` files are decompressed by their extension.
 */
/** The longest line read (64 MiB; DuckDB's default is 2 MiB): a properties object may be large. */
const MAX_LINE = 64 * 1024 * 1024;

export const lines = (files: readonly string[], hive: boolean) =>
  `read_csv(${fileList(files)}, columns = {'line': 'VARCHAR'}, delim = chr(1), quote = '', escape = '', nullstr = '\\N', ` +
  `header = false, auto_detect = false, strict_mode = false, max_line_size = ${MAX_LINE}, buffer_size = ${MAX_LINE}${hive ? ", hive_partitioning = true, hive_types = {'dt': VARCHAR}" : ''})`;

const EMPTY_EVENTS =
  'SELECT NULL::VARCHAR AS event_id, NULL::VARCHAR AS source, NULL::VARCHAR AS user_id, NULL::VARCHAR AS event_name, ' +
  'NULL::TIMESTAMP AS ts, NULL::VARCHAR AS properties, NULL::DOUBLE AS value, NULL::VARCHAR AS dt WHERE false';

/** The SPEC's type family of a DuckDB type name, for a Parquet column. */
function family(type: string | undefined): 'absent' | 'text' | 'number' | 'boolean' | 'timestamp' | 'other' {
  if (type === undefined) return 'absent';
  if (type === 'VARCHAR' || type === 'JSON') return 'text';
  if (type === 'BOOLEAN') return 'boolean';
  if (/^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|FLOAT|DOUBLE|DECIMAL\(\d+,\d+\))$/.test(type)) return 'number';
  if (type.startsWith('TIMESTAMP')) return 'timestamp';
  return 'other';
}

/**
 * A column read as the SPEC's type, by what the file holds: a string column from text, a number
 * or a boolean (their digits, `true`); `ts` from a TIMESTAMP (taken as UTC) or TIMESTAMPTZ;
 * `value` from a number; `properties` from text. Anything else, or an absent column, is NULL:
 * a row without a usable id or ts is invalid (counted), one without value or properties has none.
 */
function parquetColumn(name: string, columns: ParquetColumns | undefined, problems: string[]): string {
  const type = columns === undefined ? 'VARCHAR' : columns.get(name);
  const kind = columns === undefined && name === 'ts' ? 'timestamp' : columns === undefined && name === 'value' ? 'number' : family(type);
  const column = `"${name}"`;
  const unusable = (cast: string) => {
    if (kind !== 'absent') problems.push(`${name} is ${type}`);
    return `CAST(NULL AS ${cast})`;
  };
  switch (name) {
    case 'ts':
      return kind === 'timestamp' ? `make_timestamp(epoch_us(${column}))` : unusable('TIMESTAMP');
    case 'value':
      return kind === 'number' ? `CAST(${column} AS DOUBLE)` : unusable('DOUBLE');
    case 'properties':
      return kind === 'text' ? duckdbDialect.propertiesOfText(`CAST(${column} AS VARCHAR)`) : unusable('VARCHAR');
    default:
      if (kind === 'text') return `CAST(${column} AS VARCHAR)`;
      if (kind === 'number' && type?.startsWith('DECIMAL')) return `CAST(CAST(${column} AS DOUBLE) AS VARCHAR)`;
      return kind === 'number' || kind === 'boolean' ? `CAST(${column} AS VARCHAR)` : unusable('VARCHAR');
  }
}

/**
 * Files grouped by what their columns are, one read_parquet per group (most lakes: one), each
 * column read as parquetColumn says. Files of unknown schema form one group read as the SPEC says.
 */
function parquetRelation(
  names: readonly string[],
  files: readonly string[],
  schemas: ParquetSchemas | undefined,
  warnings: string[],
  hive: boolean,
): string[] {
  const groups = new Map<string, { columns: ParquetColumns | undefined; files: string[] }>();
  for (const file of files) {
    const columns = schemas?.get(file);
    const key = columns === undefined ? '' : JSON.stringify(names.map((n) => columns.get(n) ?? null));
    const group = groups.get(key) ?? { columns, files: [] };
    group.files.push(file);
    groups.set(key, group);
  }
  return [...groups.values()].map(({ columns, files: grouped }) => {
    const problems: string[] = [];
    const select = names.map((n) => `${parquetColumn(n, columns, problems)} AS ${n}`);
    if (problems.length > 0)
      warnings.push(
        `${grouped.length === 1 ? grouped[0] : `${grouped.length} Parquet files (${grouped[0]}, ...)`}: ${problems.join(', ')}, read as NULL`,
      );
    const options = `, union_by_name = true${hive ? ", hive_partitioning = true, hive_types = {'dt': VARCHAR}" : ''}`;
    return `SELECT ${select.join(', ')}${hive ? ', dt' : ''} FROM read_parquet(${fileList(grouped)}${options})`;
  });
}

const EVENT_COLUMNS = ['event_id', 'source', 'user_id', 'event_name', 'ts', 'properties', 'value'];
const IDENTITY_COLUMNS = ['source', 'user_id', 'person_id'];

function identities(files: LakeFiles['identities'], schemas: ParquetSchemas | undefined, warnings: string[]): string {
  const parts = parquetRelation(IDENTITY_COLUMNS, files.parquet, schemas, warnings, false);
  if (files.jsonl.length > 0) parts.push(jsonlIdentitiesQuery(duckdbDialect, { from: lines(files.jsonl, false), line: 'line' }));
  if (parts.length === 0) parts.push('SELECT NULL::VARCHAR AS source, NULL::VARCHAR AS user_id, NULL::VARCHAR AS person_id WHERE false');
  return `(${parts.join(' UNION ALL ')})`;
}

/** DuckDB relations over a local lake's files, and what the reader warns about. */
export interface DuckDbLake extends LakeRelations {
  /** Parquet columns read as NULL because of their type (one line per group of files). */
  readonly warnings: readonly string[];
}

/**
 * DuckDB relations over a local lake's files, in the shape the compiler expects. With the
 * Parquet files' columns (readParquetSchemas), absent and wrongly typed columns are read as NULL;
 * without, every Parquet file is taken to have the SPEC's columns.
 */
export function duckdbLakeRelations(files: LakeFiles, schemas?: ParquetSchemas): DuckDbLake {
  const warnings: string[] = [];
  const events = parquetRelation(EVENT_COLUMNS, files.events.parquet, schemas, warnings, true);
  if (files.events.jsonl.length > 0) {
    events.push(jsonlEventsQuery(duckdbDialect, { from: lines(files.events.jsonl, true), line: 'line', keep: ['dt'] }));
  }
  if (events.length === 0) events.push(EMPTY_EVENTS);
  return { events: `(${events.join(' UNION ALL ')})`, identities: identities(files.identities, schemas, warnings), warnings };
}
