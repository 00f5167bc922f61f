/**
 * `npx tsx bench/carry-first-bench.ts`: the carried partials' first computation alone, as the cold
 * refresh (e) makes it (every count use added up from all its tile days), with its time and the
 * process's peak RSS. It reads the kept state of bench/d-phases-bench.ts
 * (`bench/.cache/d-state-<people>-<days>`, run that first): a copy of it without its carried
 * partials, the uses those partials held, over every tile day (BENCH_PEOPLE, BENCH_DAYS as there;
 * BENCH_MEMORY_LIMIT as `npm run bench`, 1500MB).
 */
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DuckDbEngine } from '../shared/local/duckdb-engine.ts';
import { readJson } from '../shared/local/local-tiles.ts';
import { openDuckDb } from '../shared/local/open-duckdb.ts';
import type { CarryUse } from '../shared/tiles/carry-sql.ts';

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 200_000);
const DAYS = Number(process.env.BENCH_DAYS ?? 90);
const root = resolve(import.meta.dirname);
const lake = join(root, '.cache', `lake-${PEOPLE}-${DAYS}`);
const base = join(root, '.cache', `d-state-${PEOPLE}-${DAYS}`);
const made = await readJson<{ readonly uses: readonly CarryUse[] }>(join(base, 'tiles', 'partials', 'partials.json'));
if (!existsSync(join(lake, 'events')) || made === undefined) throw new Error(`run bench/d-phases-bench.ts first (no ${base})`);

const state = await mkdtemp(join(tmpdir(), 'cohorts-carry-first-'));
try {
  await cp(join(base, 'tiles'), join(state, 'tiles'), { recursive: true, preserveTimestamps: true });
  await rm(join(state, 'tiles', 'partials'), { recursive: true, force: true });
  const days = (await readdir(join(state, 'tiles'))).flatMap((name) => (name.startsWith('day=') ? [name.slice('day='.length)] : [])).sort();
  const connection = await openDuckDb({ memoryLimit: process.env.BENCH_MEMORY_LIMIT ?? '1500MB' });
  const engine = new DuckDbEngine(connection, lake, await DuckDbEngine.describe(connection));
  const before = process.resourceUsage().maxRSS / 1024;
  const cpu = process.cpuUsage();
  const start = performance.now();
  await engine.tiles(state).carry(days, made.uses);
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  process.stdout.write(
    `carried partials, first computation: ${made.uses.length} uses over ${days.length} days, ${(ms / 1000).toFixed(2)} s wall, ` +
      `${((used.user + used.system) / 1e6).toFixed(2)} s CPU, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB ` +
      `(${before.toFixed(0)} MB before)\n`,
  );
} finally {
  await rm(state, { recursive: true, force: true });
}
