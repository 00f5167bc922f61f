/**
 * Bench-only: a copy of `d-phases-bench.ts`'s kept state (`bench/.cache/d-state-<people>-<days>`, the cold refresh over
 * tiles as of X) with the bench catalog, a DuckDB connection and an engine over the bench lake (BENCH_PEOPLE, BENCH_DAYS,
 * BENCH_MEMORY_LIMIT as there), for the scripts that catch the (d) refresh's statements and run them again.
 */
import { existsSync } from 'node:fs';
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDbEngine } from '../shared/local/duckdb-engine.ts';
import { openDuckDb } from '../shared/local/open-duckdb.ts';
import { benchSource } from './bench-catalog.ts';

/** X, the kept state's as-of, and X + 1 day. */
export const END = new Date('2024-06-01T00:00:00Z');
export const NEXT = new Date(END.getTime() + 86_400_000);

/** The kept state copied into a temporary folder (named with `prefix`; the caller removes it), and what reads it. */
export async function keptDState(prefix: string) {
  const people = Number(process.env.BENCH_PEOPLE ?? 200_000);
  const days = Number(process.env.BENCH_DAYS ?? 90);
  const root = resolve(import.meta.dirname);
  const lake = join(root, '.cache', `lake-${people}-${days}`);
  const base = join(root, '.cache', `d-state-${people}-${days}`);
  if (!existsSync(join(base, 'tiles'))) throw new Error(`no kept state in ${base}: run bench/d-phases-bench.ts first`);
  const source = await benchSource(resolve(root, '..', 'definitions'));
  const connection = await openDuckDb({ memoryLimit: process.env.BENCH_MEMORY_LIMIT ?? '1500MB' });
  const engine = new DuckDbEngine(connection, lake, await DuckDbEngine.describe(connection));
  const state = await mkdtemp(join(tmpdir(), prefix));
  await cp(base, state, { recursive: true, preserveTimestamps: true });
  return { lake, source, connection, engine, state };
}

/** The process CPU seconds (DuckDB's threads included) of one statement. */
export async function cpuSeconds(connection: DuckDBConnection, sql: string): Promise<number> {
  const start = process.cpuUsage();
  await connection.run(sql);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}
