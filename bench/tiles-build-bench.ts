/**
 * `npx tsx bench/tiles-build-bench.ts`: the cold build of every tile day of the bench lake (the
 * tile store as it ships), beside the one-pass full query on the same lake; prints both times,
 * their ratio and peak memory. BENCH_PEOPLE / BENCH_DAYS pick a cached lake (see refresh-bench.ts);
 * BENCH_BATCH_BYTES the build's batch bound (default BUILD_BATCH_BYTES); BENCH_SKIP_FULL=1 leaves the
 * full query out, so that the peak memory printed is the build's own.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compileRefresh } from '../shared/compiler/compile-refresh.ts';
import { DuckDbEngine } from '../shared/local/duckdb-engine.ts';
import { findLakeFiles } from '../shared/local/lake-files.ts';
import { BUILD_BATCH_BYTES, LocalTileStore } from '../shared/local/local-tiles.ts';
import { openDuckDb } from '../shared/local/open-duckdb.ts';
import { DAY_MS, dayOf } from '../shared/tiles/day-split.ts';
import { catalogMeasures } from '../shared/tiles/measures.ts';
import { benchCatalog } from './bench-catalog.ts';
import { profileStatements, takeStatements } from './statement-profile.ts';

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 200_000);
const DAYS = Number(process.env.BENCH_DAYS ?? 90);
const END = new Date('2024-06-01T00:00:00Z');
const root = resolve(import.meta.dirname);
const lake = join(root, '.cache', `lake-${PEOPLE}-${DAYS}`);
if (!existsSync(join(lake, 'events'))) throw new Error(`no bench lake at ${lake}: run npm run bench once`);

const catalog = await benchCatalog(resolve(root, '..', 'definitions'));
// A spill folder of its own: DuckDB processes sharing one collide on its file names.
const connection = await openDuckDb({
  memoryLimit: process.env.BENCH_MEMORY_LIMIT ?? '1500MB',
  tempDirectory: join(tmpdir(), `cohorts-tiles-bench-duckdb-${process.pid}`),
});
// BENCH_PROFILE=1: each statement's CPU and wall time, and the peak RSS after it.
const profile = process.env.BENCH_PROFILE === '1';
if (profile) profileStatements(connection);
const engine = new DuckDbEngine(connection, lake, await DuckDbEngine.describe(connection));
const view = await engine.lake();
const files = await findLakeFiles(lake);
const days: string[] = [];
for (let d = Date.parse(`${files.partitions[0]}T00:00:00Z`) - DAY_MS; d < END.getTime(); d += DAY_MS) days.push(dayOf(d));

/** Wall and process CPU seconds (DuckDB's threads included: the steadier reading on a loaded machine). */
const time = async (work: () => Promise<unknown>) => {
  const start = performance.now();
  const cpu = process.cpuUsage();
  await work();
  const used = process.cpuUsage(cpu);
  return { wall: (performance.now() - start) / 1000, cpu: (used.user + used.system) / 1e6 };
};
const secs = (t: { wall: number; cpu: number }) => `${t.wall.toFixed(2)} s (${t.cpu.toFixed(2)} s CPU)`;
const state = await mkdtemp(join(tmpdir(), 'cohorts-tiles-bench-'));
try {
  const skipFull = process.env.BENCH_SKIP_FULL === '1';
  const full = await time(async () => {
    if (skipFull) return;
    const compiled = compileRefresh({ cohorts: catalog, asOf: END, lake: view.relations, dialect: engine.dialect });
    await engine.release(await engine.evaluate(compiled.sql, 'bench-full'));
  });
  const fullStatements = profile ? takeStatements() : '';
  const batchBytes = Number(process.env.BENCH_BATCH_BYTES ?? BUILD_BATCH_BYTES);
  const batches: number[] = [];
  const store = new LocalTileStore(connection, state, { batchBytes, onProgress: (_, done) => batches.push(done) });
  const measures = catalogMeasures(catalog);
  const build = await time(() => store.refresh(measures, days, view.relations, files));
  const buildStatements = profile ? takeStatements() : '';
  const again = await time(() => store.refresh(measures, days, view.relations, files));
  const peakMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(
    `${days.length} tile days, ${measures.length} measures, batches of at most ${(batchBytes / 2 ** 20).toFixed(0)} MiB of lake files ` +
      `(${Math.max(1, batches.length)} tile batches)\nfull query: ${skipFull ? 'skipped' : secs(full)}\n` +
      `cold build: ${secs(build)}${skipFull ? '' : ` (${(build.wall / full.wall).toFixed(2)}x wall, ${(build.cpu / full.cpu).toFixed(2)}x CPU)`}\n` +
      `warm check: ${secs(again)}\npeak memory: ${peakMb.toFixed(0)} MB (target < 1500 MB)\n` +
      (profile ? `full query statements:\n${fullStatements}\ncold build statements:\n${buildStatements}\n` : ''),
  );
} finally {
  await rm(state, { recursive: true, force: true });
}
