/**
 * `npx tsx bench/d-phases-bench.ts`: the tile-side phases of the (d) refresh alone (the index of
 * counted ids and the contested copies, the carried partials). A cold refresh over tiles as of X
 * is run once into `bench/.cache/d-state-<people>-<days>` (kept between runs), then each run copies
 * that state, appends one new day to the lake (as `npm run bench` does), runs the refresh as of
 * X + 1 day and prints each phase's time and the statements it ran (BENCH_PEOPLE, BENCH_DAYS as there).
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DuckDbEngine } from '../shared/local/duckdb-engine.ts';
import { LocalCarry } from '../shared/local/local-carry.ts';
import { LocalTileStore } from '../shared/local/local-tiles.ts';
import { openDuckDb } from '../shared/local/open-duckdb.ts';
import { generateSampleLake } from '../shared/sample/generate-lake.ts';
import { benchSource } from './bench-catalog.ts';
import { appendNewDay, tiledRefresh } from './bench-state.ts';
import { countCodecCalls, takeCodecCalls } from './codec-calls.ts';
import { takePhases, timePhase } from './phases.ts';
import { profileStatements, takeStatements } from './statement-profile.ts';

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 200_000);
const DAYS = Number(process.env.BENCH_DAYS ?? 90);
const END = new Date('2024-06-01T00:00:00Z');
const NEXT = new Date(END.getTime() + 86_400_000);
const root = resolve(import.meta.dirname);
const lake = join(root, '.cache', `lake-${PEOPLE}-${DAYS}`);
const base = join(root, '.cache', `d-state-${PEOPLE}-${DAYS}`);
if (!existsSync(join(lake, 'events'))) await generateSampleLake({ dir: lake, people: PEOPLE, days: DAYS, end: END, seed: 7 });

timePhase(LocalTileStore.prototype, 'refreshIndex', 'tiles: id index and contested');
timePhase(LocalTileStore.prototype, 'build', 'tiles: build');
timePhase(LocalCarry.prototype, 'relations', 'tiles: carried partials');
timePhase(DuckDbEngine.prototype, 'encode', 'snapshot encode');
timePhase(DuckDbEngine.prototype, 'decode', 'snapshot decode');
countCodecCalls(DuckDbEngine.prototype);

const source = await benchSource(resolve(root, '..', 'definitions'));
const connection = await openDuckDb({ memoryLimit: process.env.BENCH_MEMORY_LIMIT ?? '1500MB' });
const engine = new DuckDbEngine(connection, lake, await DuckDbEngine.describe(connection));
const run = (state: string, asOf: Date) => tiledRefresh(engine, state, source, asOf);
// BENCH_REFRESH_BASE=1: the kept state refreshed as of X first (after a change of what the tiles keep).
if (!existsSync(join(base, 'tiles')) || process.env.BENCH_REFRESH_BASE === '1') {
  await mkdir(base, { recursive: true });
  await run(base, END);
}
const state = await mkdtemp(join(tmpdir(), 'cohorts-d-phases-'));
await cp(base, state, { recursive: true, preserveTimestamps: true });
const newDay = await appendNewDay(connection, lake, END);
try {
  profileStatements(connection);
  if (process.env.BENCH_DUMP) {
    const { writeFile } = await import('node:fs/promises');
    const original = connection.run.bind(connection);
    let n = 0;
    connection.run = ((sql: string, ...rest: unknown[]) => {
      if (/COPY \(SELECT \* FROM|tiles_contested_\d+" AS/.test(sql))
        void writeFile(join(process.env.BENCH_DUMP as string, `stmt-${++n}.sql`), sql);
      return (original as (...a: unknown[]) => ReturnType<typeof original>)(sql, ...rest);
    }) as typeof connection.run;
    const relations = LocalCarry.prototype.relations;
    LocalCarry.prototype.relations = async function (this: LocalCarry, ...args: Parameters<typeof relations>) {
      const result = await relations.apply(this, args);
      process.stdout.write(`carry: ${JSON.stringify(this.last)}\n`);
      return result;
    };
  }
  takePhases();
  takeCodecCalls();
  const start = performance.now();
  const cpu = process.cpuUsage();
  await run(state, NEXT);
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  process.stdout.write(
    `(d) ${(ms / 1000).toFixed(2)} s, ${((used.user + used.system) / 1e6).toFixed(2)} s CPU, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB\nphases: ${takePhases(ms)}\ncodec calls: ${takeCodecCalls()}\nstatements:\n${takeStatements()}\n`,
  );
} finally {
  await rm(newDay, { force: true });
  if (process.env.BENCH_KEEP) process.stdout.write(`state kept in ${state}\n`);
  else await rm(state, { recursive: true, force: true });
}
