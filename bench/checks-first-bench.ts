/**
 * `npx tsx bench/checks-first-bench.ts`: the kept source checks' first computation alone (every
 * partition of the window computed, nothing kept yet), as (b) and (e) of `npm run bench` make it,
 * over the bench lake (BENCH_PEOPLE, BENCH_DAYS as there; BENCH_MEMORY_LIMIT as `npm run bench`,
 * 1500MB), with its time, CPU and the process's peak RSS, then a second run over what it kept.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DuckDbEngine } from '../shared/local/duckdb-engine.ts';
import { LocalSourceChecks } from '../shared/local/local-source-checks.ts';
import { openDuckDb } from '../shared/local/open-duckdb.ts';
import { generateSampleLake } from '../shared/sample/generate-lake.ts';

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 200_000);
const DAYS = Number(process.env.BENCH_DAYS ?? 90);
const END = new Date('2024-06-01T00:00:00Z');
const root = resolve(import.meta.dirname);
const lake = join(root, '.cache', `lake-${PEOPLE}-${DAYS}`);
if (!existsSync(join(lake, 'events'))) await generateSampleLake({ dir: lake, people: PEOPLE, days: DAYS, end: END, seed: 7 });

const connection = await openDuckDb({ memoryLimit: process.env.BENCH_MEMORY_LIMIT ?? '1500MB' });
const engine = new DuckDbEngine(connection, lake, await DuckDbEngine.describe(connection));
const state = await mkdtemp(join(tmpdir(), 'cohorts-checks-first-'));
try {
  const checks = new LocalSourceChecks(connection, engine, lake, state);
  for (const label of ['first computation', 'kept parts']) {
    const before = process.resourceUsage().maxRSS / 1024;
    const cpu = process.cpuUsage();
    const start = performance.now();
    const rows = await checks.rows(END);
    const ms = performance.now() - start;
    const used = process.cpuUsage(cpu);
    const lakeRow = rows.find((r) => r.grain === 'lake');
    process.stdout.write(
      `source checks, ${label}: ${(ms / 1000).toFixed(2)} s wall, ${((used.user + used.system) / 1e6).toFixed(2)} s CPU, ` +
        `peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (${before.toFixed(0)} MB before), ` +
        `${lakeRow?.events ?? '?'} events in the window\n`,
    );
  }
} finally {
  await rm(state, { recursive: true, force: true });
}
