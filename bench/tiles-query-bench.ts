/**
 * `npx tsx bench/tiles-query-bench.ts`: the queries of a refresh over tiles, timed alone, on tiles
 * kept between runs (`bench/.cache/tiles-<people>-<days>`: built once, then reused, rebuilt only
 * where stale). Runs the shipped steps once in `tiles` mode to catch the statements they run (the
 * inexact-sums query and the tiled query), then times each of them again `BENCH_REPEAT` times
 * (default 2) beside the full query. BENCH_PROFILE=1 also prints DuckDB's profile of each.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { compileRefresh } from '../shared/compiler/compile-refresh.ts';
import { DuckDbEngine } from '../shared/local/duckdb-engine.ts';
import { openDuckDb } from '../shared/local/open-duckdb.ts';
import { findLakeFiles } from '../shared/local/lake-files.ts';
import { compileTiledRefresh, tileDaysNeeded } from '../shared/tiles/tiled-refresh.ts';
import { benchSource } from './bench-catalog.ts';
import { tiledRefresh } from './bench-state.ts';

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 200_000);
const DAYS = Number(process.env.BENCH_DAYS ?? 90);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 2);
const END = new Date(process.env.BENCH_AS_OF ?? '2024-06-01T00:00:00Z');
const root = resolve(import.meta.dirname);
const lake = join(root, '.cache', `lake-${PEOPLE}-${DAYS}`);
const state = join(root, '.cache', `tiles-${PEOPLE}-${DAYS}`);
if (!existsSync(join(lake, 'events'))) throw new Error(`no bench lake at ${lake}: run npm run bench once`);
await mkdir(state, { recursive: true });

const { definitions: catalog, texts } = await benchSource(resolve(root, '..', 'definitions'));
const connection = await openDuckDb({ memoryLimit: process.env.BENCH_MEMORY_LIMIT ?? '1500MB' });
const engine = new DuckDbEngine(connection, lake, await DuckDbEngine.describe(connection));

// The statements the steps run, caught on their way to DuckDB.
const caught: { label: string; sql: string }[] = [];
const evaluate = engine.evaluate.bind(engine);
const rows = engine.rows.bind(engine);
engine.evaluate = (sql, runId) => {
  caught.push({ label: 'tiled query', sql });
  return evaluate(sql, runId);
};
engine.rows = (sql) => {
  if (sql.includes('HAVING NOT coalesce(bool_and(integral)')) caught.push({ label: 'inexact sums', sql });
  return rows(sql);
};
const started = performance.now();
const run = await tiledRefresh(engine, state, { definitions: catalog, texts }, END);
const t = run.summary.tiles;
process.stdout.write(
  `refresh over tiles: ${((performance.now() - started) / 1000).toFixed(2)} s (${t.built_days} built, ${t.rebuilt_days} rebuilt, ${t.reused_days} reused; raw measures ${t.raw_measures.join(' ') || 'none'})\n`,
);
const view = await engine.lake();
const firstPartition = (await findLakeFiles(lake)).partitions[0];
// The tiled query again with no measure read raw: what reading the raw sums over their window costs.
const tiledRequest = {
  cohorts: catalog,
  asOf: END,
  lake: view.relations,
  dialect: engine.dialect,
  metrics: run.plan.metrics.settings,
  tiles: engine
    .tiles(state)
    .relations(tileDaysNeeded({ cohorts: catalog, asOf: END, lake: view.relations, dialect: engine.dialect }, firstPartition)),
  ...(firstPartition === undefined ? {} : { firstPartition }),
};
caught.push({ label: 'tiled query, no raw measure', sql: compileTiledRefresh({ ...tiledRequest, rawMeasures: [] }).sql });
// And as run (the raw measures found), with no carried partials: what the carry saves the query.
caught.push({
  label: 'tiled query, no carried partials',
  sql: compileTiledRefresh({ ...tiledRequest, rawMeasures: t.raw_measures }).sql,
});
caught.push({
  label: 'full query',
  sql: compileRefresh({ cohorts: catalog, asOf: END, lake: view.relations, dialect: engine.dialect }).sql,
});

const profile = process.env.BENCH_PROFILE === '1';
for (const { label, sql } of caught) {
  await writeFile(join(state, `${label.replaceAll(' ', '-')}.sql`), sql);
  const times: string[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const start = performance.now();
    const cpu = process.cpuUsage();
    await connection.run(`CREATE OR REPLACE TEMP TABLE bench_result AS ${sql}`);
    const used = process.cpuUsage(cpu);
    times.push(`${((performance.now() - start) / 1000).toFixed(2)} (${((used.user + used.system) / 1e6).toFixed(2)} CPU)`);
  }
  process.stdout.write(`${label}: ${times.join(', ')} s\n`);
  if (profile) {
    const plan = await connection.runAndReadAll(`EXPLAIN ANALYZE ${sql}`);
    process.stdout.write(`${String(plan.getRows()[0]?.[1] ?? '')}\n`);
  }
}
