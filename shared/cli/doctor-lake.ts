import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { DuckDBConnection } from '@duckdb/node-api';
import { stringLiteral } from '../compiler/sql-text.ts';
import {
  jsonlLine,
  PROBE_JSONL_EVENTS,
  PROBE_JSONL_IDENTITIES,
  PROBE_JSONL_IDENTITIES_KEY,
  PROBE_PARQUET_EVENTS,
  PROBE_PARQUET_EVENTS_KEY,
  PROBE_PARQUET_IDENTITIES,
  PROBE_PARQUET_IDENTITIES_KEY,
} from './doctor-probe.ts';

/** One file of the probe lake: its key relative to the lake's root, and its bytes. */
export interface ProbeFile {
  readonly key: string;
  readonly body: Uint8Array;
}

/** The rows each lake table holds in the probe lake: what a table check must read back. */
export const PROBE_TABLE_ROWS = {
  events_jsonl: Object.values(PROBE_JSONL_EVENTS).reduce((sum, events) => sum + events.length, 0),
  events_parquet: PROBE_PARQUET_EVENTS.length,
  identities_jsonl: PROBE_JSONL_IDENTITIES.length,
  identities_parquet: PROBE_PARQUET_IDENTITIES.length,
} as const;

const text = (value: string) => stringLiteral(value);
/** `2024-05-31T22:59:59.999600Z` as a DuckDB TIMESTAMP (UTC, microseconds). */
const timestamp = (iso: string) => `CAST(${text(iso.replace('T', ' ').replace(/Z$/, ''))} AS TIMESTAMP)`;

/**
 * Writes the probe lake into `dir` (JSONL as text with numbers as spelled, one file gzipped,
 * Parquet through DuckDB with `ts` TIMESTAMP in microseconds) and returns its files, to upload.
 */
export async function writeProbeLake(connection: DuckDBConnection, dir: string): Promise<ProbeFile[]> {
  const files: ProbeFile[] = [];
  const save = async (key: string, body: Uint8Array) => {
    const path = join(dir, key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body);
    files.push({ key, body });
  };
  for (const [key, events] of Object.entries(PROBE_JSONL_EVENTS)) {
    const body = new TextEncoder().encode(events.map((e) => `${jsonlLine(e)}\n`).join(''));
    await save(key, key.endsWith('.gz') ? gzipSync(body) : body);
  }
  await save(
    PROBE_JSONL_IDENTITIES_KEY,
    new TextEncoder().encode(PROBE_JSONL_IDENTITIES.map((row) => `${JSON.stringify(row)}\n`).join('')),
  );

  const events = PROBE_PARQUET_EVENTS.map(
    (e) => `(${[e.id, e.source, e.user, e.name].map(text).join(', ')}, ${timestamp(e.ts)}, CAST(NULL AS VARCHAR), CAST(NULL AS DOUBLE))`,
  );
  await save(
    PROBE_PARQUET_EVENTS_KEY,
    await parquet(
      connection,
      dir,
      `SELECT * FROM (VALUES ${events.join(', ')}) AS t(event_id, source, user_id, event_name, ts, properties, value)`,
    ),
  );
  const identities = PROBE_PARQUET_IDENTITIES.map((row) => `(${[row.source, row.user_id, row.person_id].map(text).join(', ')})`);
  await save(
    PROBE_PARQUET_IDENTITIES_KEY,
    await parquet(connection, dir, `SELECT * FROM (VALUES ${identities.join(', ')}) AS t(source, user_id, person_id)`),
  );
  return files;
}

let scratch = 0;

/** The Parquet bytes of a query's rows. */
async function parquet(connection: DuckDBConnection, dir: string, sql: string): Promise<Uint8Array> {
  const file = join(dir, `.scratch-${++scratch}.parquet`);
  await connection.run(`COPY (${sql}) TO ${stringLiteral(file)} (FORMAT parquet)`);
  try {
    return new Uint8Array(await readFile(file));
  } finally {
    await rm(file, { force: true });
  }
}
