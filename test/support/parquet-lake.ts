import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type DuckDBAppender, type DuckDBConnection, DuckDBTimestampTZValue, DuckDBTimestampValue } from '@duckdb/node-api';
import { identifier, stringLiteral } from '../../shared/compiler/sql-text.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { type EventRow, eventRow, type IdentityRow, identityRow, InexpressibleInParquetError } from './lake-rows.ts';

/** How Parquet stores `ts` (SPEC section 1): UTC wall time, or an instant. */
export type ParquetTs = 'TIMESTAMP' | 'TIMESTAMPTZ';

/**
 * A lake written another way: every JSONL file as Parquet with one `ts` type; `mixed`: files
 * in turn kept as JSONL, written with TIMESTAMP, written with TIMESTAMPTZ (so one day, and the
 * identities, can hold both formats and both `ts` types); `parquet-sparse`: as
 * `parquet-timestamp`, but a file leaves out each optional column (`properties`, `value`) that
 * none of its rows has (SPEC section 1: "may be absent").
 */
export type LakeVariant = 'parquet-timestamp' | 'parquet-timestamptz' | 'mixed' | 'parquet-sparse';

/** Every variant, in a stable order. */
export const LAKE_VARIANTS: readonly LakeVariant[] = ['parquet-timestamp', 'parquet-timestamptz', 'mixed', 'parquet-sparse'];

/** Columns an events file may leave out. */
const OPTIONAL_COLUMNS = ['properties', 'value'];

const JSONL = /\.jsonl(\.gz)?$/;

type Kind = 'events' | 'identities';

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

async function jsonlLines(file: string): Promise<string[]> {
  const bytes = await readFile(file);
  return (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8').split('\n');
}

function appendText(appender: DuckDBAppender, value: string | null) {
  if (value === null) appender.appendNull();
  else appender.appendVarchar(value);
}

function appendEvent(appender: DuckDBAppender, row: EventRow, ts: ParquetTs) {
  appendText(appender, row.event_id);
  appendText(appender, row.source);
  appendText(appender, row.user_id);
  appendText(appender, row.event_name);
  if (row.ts === null) appender.appendNull();
  else if (ts === 'TIMESTAMP') appender.appendTimestamp(new DuckDBTimestampValue(row.ts));
  else appender.appendTimestampTZ(new DuckDBTimestampTZValue(row.ts));
  appendText(appender, row.properties);
  if (row.value === null) appender.appendNull();
  else appender.appendDouble(row.value);
  appender.endRow();
}

function appendIdentity(appender: DuckDBAppender, row: IdentityRow) {
  appendText(appender, row.source);
  appendText(appender, row.user_id);
  appendText(appender, row.person_id);
  appender.endRow();
}

const COLUMNS: Record<Kind, (ts: ParquetTs) => string> = {
  events: (ts) => `event_id VARCHAR, source VARCHAR, user_id VARCHAR, event_name VARCHAR, ts ${ts}, properties VARCHAR, value DOUBLE`,
  identities: () => 'source VARCHAR, user_id VARCHAR, person_id VARCHAR',
};

/** Writes one JSONL file's rows, in line order, as a Parquet file through a typed table. */
async function writeParquet(connection: DuckDBConnection, source: string, target: string, kind: Kind, ts: ParquetTs, sparse: boolean) {
  await connection.run(`CREATE OR REPLACE TABLE staging (${COLUMNS[kind](ts)})`);
  const appender = await connection.createAppender('staging');
  for (const [index, line] of (await jsonlLines(source)).entries()) {
    try {
      if (kind === 'events') {
        const row = eventRow(line);
        if (row) appendEvent(appender, row, ts);
      } else {
        const row = identityRow(line);
        if (row) appendIdentity(appender, row);
      }
    } catch (error) {
      if (error instanceof InexpressibleInParquetError) error.message = `${source}:${index + 1}: ${error.message}`;
      throw error;
    }
  }
  appender.closeSync();
  let columns = '*';
  if (sparse && kind === 'events') {
    const counts = (
      await connection.runAndReadAll(`SELECT ${OPTIONAL_COLUMNS.map((c) => `count(${identifier(c)})`).join(', ')} FROM staging`)
    ).getRows()[0];
    const empty = OPTIONAL_COLUMNS.filter((_, i) => counts?.[i] === 0n).map(identifier);
    if (empty.length > 0) columns = `* EXCLUDE (${empty.join(', ')})`;
  }
  await mkdir(dirname(target), { recursive: true });
  await connection.run(`COPY (SELECT ${columns} FROM staging) TO ${stringLiteral(target)} (FORMAT parquet)`);
}

/** `billing.jsonl` -> `billing.parquet`, `billing.jsonl.gz` -> `billing-gz.parquet` (both may share a folder). */
const parquetName = (path: string) => path.replace(/\.jsonl\.gz$/, '-gz.parquet').replace(/\.jsonl$/, '.parquet');

/** The `ts` type a file is written with, or `undefined` to keep it as JSONL. */
function formatOf(variant: LakeVariant, index: number): ParquetTs | undefined {
  if (variant === 'parquet-timestamp' || variant === 'parquet-sparse') return 'TIMESTAMP';
  if (variant === 'parquet-timestamptz') return 'TIMESTAMPTZ';
  return [undefined, 'TIMESTAMP', 'TIMESTAMPTZ'][index % 3] as ParquetTs | undefined;
}

/**
 * Writes the JSONL lake `from` again at `to` (a new or empty folder) as the given variant,
 * equivalent by SPEC section 1: the same `dt=` folders, one `.parquet` per events or identities
 * JSONL file, every other file copied. Columns are typed as the SPEC says (`ts` TIMESTAMP or
 * TIMESTAMPTZ to the microsecond, `properties` the object's text as written, `value` DOUBLE);
 * see `lake-rows.ts` for how each line reads.
 */
export async function writeLakeVariant(from: string, to: string, variant: LakeVariant): Promise<void> {
  const connection = await openDuckDb({ threads: 1 });
  try {
    await connection.run('SET preserve_insertion_order = true');
    const written = new Set<string>();
    let dataFiles = 0;
    for (const file of await filesUnder(from)) {
      const path = relative(from, file);
      const kind = (['events', 'identities'] as const).find((k) => path.startsWith(`${k}/`));
      const ts = kind && JSONL.test(path) ? formatOf(variant, dataFiles++) : undefined;
      const target = join(to, ts ? parquetName(path) : path);
      if (written.has(target)) throw new Error(`two files of ${from} would both be written as ${target}`);
      written.add(target);
      if (kind && ts) {
        await writeParquet(connection, file, target, kind, ts, variant === 'parquet-sparse');
      } else {
        await mkdir(dirname(target), { recursive: true });
        await copyFile(file, target);
      }
    }
  } finally {
    connection.closeSync();
  }
}
