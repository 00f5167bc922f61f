/**
 * The DuckDB views standing for the lake's Glue tables ("cohort_refresh"."events_jsonl",
 * "events_parquet" (ts the stored bigint), "identities_jsonl", "identities_parquet", "lists"), with
 * their partition keys and "$path", over what glue_tables.py wrote to a tables folder. Created again
 * (CREATE OR REPLACE) when the lake grew and more listings' manifests exist (tiles-check.mts).
 */
import { join } from 'node:path';
import type { Db } from './athena-sim.mts';

/** A Parquet target of the manifests, as glue_tables.py lists it in tables.json. */
export interface ParquetTarget {
  readonly table: 'events_parquet' | 'identities_parquet';
  readonly file: string;
  readonly path: string;
  readonly listing: string;
  readonly unit: string | null;
  readonly dt: string | null;
}

const sqlString = (text: string) => `'${text.replaceAll("'", "''")}'`;

/**
 * Creates (or replaces) the lake views in schema cohort_refresh over `tablesDir`. Returns why the
 * Athena query would fail reading the lake (a Parquet `ts` that is no INT64 timestamp outside
 * `unit=none`), else undefined.
 */
export async function createLakeViews(db: Db, tablesDir: string, parquet: readonly ParquetTarget[]): Promise<string | undefined> {
  const stringColumns = (names: string[]) => `{${names.map((n) => `${sqlString(n)}: 'VARCHAR'`).join(', ')}}`;
  const linesTable = (file: string, names: string[]) =>
    `read_json(${sqlString(join(tablesDir, file))}, format = 'newline_delimited', columns = ${stringColumns(names)})`;
  // events_jsonl, identities_jsonl: LazySimpleSerDe, one string column `line`, the partition keys and "$path".
  await db.run(
    `CREATE OR REPLACE VIEW cohort_refresh.events_jsonl AS SELECT line, listing, dt, "$path" FROM ${linesTable('events_jsonl.jsonl', ['line', 'listing', 'dt', '$path'])}`,
  );
  await db.run(
    `CREATE OR REPLACE VIEW cohort_refresh.identities_jsonl AS SELECT line, listing, "$path" FROM ${linesTable('identities_jsonl.jsonl', ['line', 'listing', '$path'])}`,
  );
  // lists: LazySimpleSerDe over the definitions bucket's lists/, one string column `line` and "$path".
  await db.run(`CREATE OR REPLACE VIEW cohort_refresh.lists AS SELECT line, "$path" FROM ${linesTable('lists.jsonl', ['line', '$path'])}`);
  // events_parquet: the Parquet targets of the manifests, columns by name with the Glue types.
  // `ts` is a Glue `bigint`: Trino's ColumnReaderFactory reads an INT64 column annotated TIMESTAMP
  // (MILLIS, MICROS or NANOS) as BIGINT with the plain long decoder: the stored count, unconverted.
  // Any other physical type (INT96, text, INT32 DATE) under a bigint column is unsupportedException:
  // the query fails when it reads that file's ts. A `unit=none` partition's ts is never read.
  const parquetOf = (table: string) => parquet.filter((f) => f.table === table);
  const storedTs = async (file: string): Promise<string | undefined> => {
    const rows = (
      await db.runAndReadAll(`SELECT type, logical_type, converted_type FROM parquet_schema(${sqlString(file)}) WHERE lower(name) = 'ts'`)
    ).getRowsJS() as (string | null)[][];
    const [type, logical, converted] = rows[0] ?? [];
    if (type !== 'INT64') return undefined;
    if (/MILLIS=MilliSeconds/.test(logical ?? '') || converted === 'TIMESTAMP_MILLIS') return 'epoch_ms(ts)';
    if (/MICROS=MicroSeconds/.test(logical ?? '') || converted === 'TIMESTAMP_MICROS') return 'epoch_us(ts)';
    if (/NANOS=NanoSeconds/.test(logical ?? '')) return 'epoch_ns(ts)';
    return undefined;
  };
  const eventsEmpty =
    'SELECT NULL::VARCHAR AS event_id, NULL::VARCHAR AS source, NULL::VARCHAR AS user_id, NULL::VARCHAR AS event_name, NULL::BIGINT AS ts, ' +
    'NULL::VARCHAR AS properties, NULL::DOUBLE AS value, NULL::VARCHAR AS listing, NULL::VARCHAR AS unit, NULL::VARCHAR AS dt, NULL::VARCHAR AS "$path" WHERE false';
  const eventParts: string[] = [];
  for (const f of parquetOf('events_parquet')) {
    let ts = await storedTs(f.file);
    if (ts === undefined) {
      if (f.unit !== 'none') return `${f.path}: ts is no INT64 timestamp, Glue says bigint`;
      ts = 'NULL';
    }
    eventParts.push(
      'SELECT CAST(event_id AS VARCHAR) AS event_id, CAST(source AS VARCHAR) AS source, CAST(user_id AS VARCHAR) AS user_id, ' +
        `CAST(event_name AS VARCHAR) AS event_name, CAST(${ts} AS BIGINT) AS ts, CAST(properties AS VARCHAR) AS properties, CAST(value AS DOUBLE) AS value, ` +
        `${sqlString(f.listing)} AS listing, ${sqlString(f.unit ?? '')} AS unit, ${sqlString(f.dt ?? '')} AS dt, ${sqlString(f.path)} AS "$path" FROM read_parquet(${sqlString(f.file)})`,
    );
  }
  await db.run(`CREATE OR REPLACE VIEW cohort_refresh.events_parquet AS ${[eventsEmpty, ...eventParts].join(' UNION ALL ')}`);
  // identities_parquet: source, user_id, person_id by name, as strings.
  const identitiesEmpty =
    'SELECT NULL::VARCHAR AS source, NULL::VARCHAR AS user_id, NULL::VARCHAR AS person_id, NULL::VARCHAR AS listing, NULL::VARCHAR AS "$path" WHERE false';
  const identityParts = parquetOf('identities_parquet').map(
    (f) =>
      'SELECT CAST(source AS VARCHAR) AS source, CAST(user_id AS VARCHAR) AS user_id, CAST(person_id AS VARCHAR) AS person_id, ' +
      `${sqlString(f.listing)} AS listing, ${sqlString(f.path)} AS "$path" FROM read_parquet(${sqlString(f.file)})`,
  );
  await db.run(`CREATE OR REPLACE VIEW cohort_refresh.identities_parquet AS ${[identitiesEmpty, ...identityParts].join(' UNION ALL ')}`);
  return undefined;
}
