import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openDuckDb } from '../local/open-duckdb.ts';
import { dayCopySql } from './day-file.ts';
import { identitiesCopySql } from './identities.ts';
import { macrosSql } from './macros.ts';
import { DAY_US, HOUR_US, lakeParams, utcDate, utcMidnight } from './params.ts';
import { personsSql } from './persons.ts';
import { sideEventsSql } from './side-events.ts';

/** What sample lake to write, and where. */
export interface SampleLakeOptions {
  /** The lake folder; `events/` and `identities/` are written inside it and must be absent or empty. */
  readonly dir: string;
  /** How many people (product users); other sources' ids map onto them. */
  readonly people: number;
  /** Length of the event window, ending at `end`. */
  readonly days: number;
  /** End of the window (exclusive); only a handful of events fall up to 1 hour after it. */
  readonly end: Date;
  /** Same seed and options, same rows. */
  readonly seed: number;
  /** Called after each step (set-up, each day file, the identity map). */
  readonly onProgress?: (done: number, total: number) => void;
}

/** What was written. */
export interface SampleLakeSummary {
  /** Event rows written, duplicates and invalid rows included. */
  readonly events: number;
  readonly people: number;
  /** Parquet files written, the identity map included. */
  readonly files: number;
  /** Rows of the identity map. */
  readonly identities: number;
}

/**
 * Writes a realistic B2B SaaS event lake (SPEC section 1) as Parquet:
 * `<dir>/events/dt=YYYY-MM-DD/events.parquet` and `<dir>/identities/identities.parquet`.
 * Everything is generated inside DuckDB from hashes of the seed, so the same options
 * give the same rows. It refuses to write into a non-empty `events/` or `identities/`
 * folder (remove it first); when it fails half-way it removes what it wrote.
 */
export async function generateSampleLake(options: SampleLakeOptions): Promise<SampleLakeSummary> {
  const params = lakeParams(options);
  const eventsDir = join(options.dir, 'events');
  const identitiesDir = join(options.dir, 'identities');
  await assertAbsentOrEmpty(eventsDir);
  await assertAbsentOrEmpty(identitiesDir);

  const dayStarts: number[] = [];
  for (let d = utcMidnight(params.startUs); d < params.endUs + HOUR_US; d += DAY_US) dayStarts.push(d);
  const total = dayStarts.length + 2;
  let done = 0;
  const step = (): void => options.onProgress?.(++done, total);

  const connection = await openDuckDb();
  try {
    await mkdir(eventsDir, { recursive: true });
    await mkdir(identitiesDir, { recursive: true });
    await connection.run(macrosSql(params));
    await connection.run(personsSql(params));
    await connection.run(sideEventsSql(params));
    step();

    let events = 0;
    let files = 0;
    for (const dayStart of dayStarts) {
      const folder = join(eventsDir, `dt=${utcDate(dayStart)}`);
      await mkdir(folder, { recursive: true });
      const rows = await copyCount(connection, dayCopySql(params, dayStart), join(folder, 'events.parquet'));
      if (rows === 0) {
        await rm(folder, { recursive: true, force: true });
      } else {
        events += rows;
        files += 1;
      }
      step();
    }

    const identities = await copyCount(connection, identitiesCopySql(), join(identitiesDir, 'identities.parquet'));
    step();
    return { events, people: params.people, files: files + 1, identities };
  } catch (error) {
    await rm(eventsDir, { recursive: true, force: true });
    await rm(identitiesDir, { recursive: true, force: true });
    throw error;
  } finally {
    connection.closeSync();
  }
}

async function assertAbsentOrEmpty(folder: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (entries.length > 0) {
    throw new Error(`${folder} already exists and is not empty; remove it before generating a sample lake`);
  }
}

/** Runs a `COPY ... TO $path` and returns how many rows it wrote. */
async function copyCount(connection: DuckDBConnection, sql: string, path: string): Promise<number> {
  const reader = await connection.runAndReadAll(sql, { path });
  const count = reader.getRows()[0]?.[0];
  return Number(count ?? 0);
}
