/**
 * Bench-only helpers shared by the bench scripts: a refresh through the shipped steps over a state
 * folder, and the (d) bench's new day appended to the lake. Nothing here runs outside bench/.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { stringLiteral } from '../shared/compiler/sql-text.ts';
import { BlobExports } from '../shared/deliver/exports.ts';
import type { DuckDbEngine } from '../shared/local/duckdb-engine.ts';
import { FsBlobStore } from '../shared/local/fs-blob-store.ts';
import { JsonlEvents } from '../shared/local/jsonl-events.ts';
import { JsonlNotifier } from '../shared/local/jsonl-notifier.ts';
import { SnapshotStore } from '../shared/store/snapshot-store.ts';
import { runRefreshSteps } from '../shared/workflow/run-steps.ts';
import type { benchSource } from './bench-catalog.ts';

/** The refresh as of `asOf` over the tiles of `state` (`mode: 'tiles'`), through the shipped steps, with the bench catalog. */
export function tiledRefresh(
  engine: DuckDbEngine,
  state: string,
  source: Awaited<ReturnType<typeof benchSource>>,
  asOf: Date,
): ReturnType<typeof runRefreshSteps> {
  const blobs = new FsBlobStore(state);
  return runRefreshSteps(
    { as_of: asOf.toISOString(), trigger: 'bench', mode: 'tiles' },
    {
      definitions: async () => ({ definitions: source.definitions, problems: [], texts: source.texts }),
      engine,
      store: new SnapshotStore(blobs, engine),
      notifier: JsonlNotifier.inState(state),
      exports: new BlobExports(blobs, engine),
      events: JsonlEvents.inState(state),
      tiles: engine.tiles(state),
    },
  );
}

/**
 * One new day of events appended to the lake whose last full day is the one before `end`: that day
 * again, a day later, with new event ids (1/DAYS of the lake), in `dt=<end>/bench-new-day.parquet`;
 * returns the file (the caller removes it).
 */
export async function appendNewDay(connection: DuckDBConnection, lake: string, end: Date): Promise<string> {
  const lastDay = join(lake, 'events', `dt=${new Date(end.getTime() - 86_400_000).toISOString().slice(0, 10)}`, 'events.parquet');
  const newDayDir = join(lake, 'events', `dt=${end.toISOString().slice(0, 10)}`);
  const newDay = join(newDayDir, 'bench-new-day.parquet');
  await mkdir(newDayDir, { recursive: true });
  await connection.run(
    `COPY (SELECT * REPLACE (event_id || '-next' AS event_id, ts + INTERVAL 1 DAY AS ts) FROM read_parquet(${stringLiteral(lastDay)})) TO ${stringLiteral(newDay)} (FORMAT parquet)`,
  );
  return newDay;
}
