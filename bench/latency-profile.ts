/**
 * Bench-only profile of realtime ticks (issue 15 (f)): over the bench lake, one warm-up refresh of a
 * realtime cohort as `cohorts watch` runs it, then ticks each after one small file landed in
 * today's partition, printing each tick's wall time and its phases. `npx tsx bench/latency-profile.ts`.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../shared/config/config.ts';
import { DuckDbEngine } from '../shared/local/duckdb-engine.ts';
import { FsBlobStore } from '../shared/local/fs-blob-store.ts';
import { LocalSourceChecks } from '../shared/local/local-source-checks.ts';
import { LocalTileExpiry } from '../shared/local/local-tile-expiry.ts';
import { openLocalPorts } from '../shared/local/local-ports.ts';
import { LocalTiles } from '../shared/local/local-tile-store.ts';
import { LocalTileStore } from '../shared/local/local-tiles.ts';
import { runRefreshSteps } from '../shared/workflow/run-steps.ts';
import { COHORT, WARN_ONLY } from './latency-bench.ts';
import { takePhases, timePhase } from './phases.ts';

timePhase(LocalTileStore.prototype, 'refresh', 'tiles: listing and fingerprints');
timePhase(LocalTileStore.prototype, 'refreshIndex', 'tiles: id index and contested');
timePhase(LocalTileStore.prototype, 'build', 'tiles: build');
timePhase(LocalTileStore.prototype, 'writeDays', 'tiles: write days');
timePhase(LocalTileStore.prototype, 'copy', 'tiles: copy');
timePhase(LocalTileStore.prototype, 'unaffected', 'tiles: unaffected check');
timePhase(LocalTiles.prototype, 'population', 'tiles: population index');
timePhase(LocalTileStore.prototype, 'currentFingerprints', 'tiles: folded fingerprints');
timePhase(LocalTileExpiry.prototype, 'refresh', 'tiles: expiry check');
timePhase(LocalTileExpiry.prototype, 'expire', 'tiles: expire');
timePhase(LocalTiles.prototype, 'forgetForgotten', 'tiles: forget forgotten');
timePhase(LocalTiles.prototype, 'bytesOf', 'tiles: bytes of');
timePhase(DuckDbEngine.prototype, 'lake', 'lake listing');
timePhase(LocalSourceChecks.prototype, 'rows', 'source checks');
timePhase(DuckDbEngine.prototype, 'rows', 'engine rows');
if (process.env.LOG_SQL) {
  const rows = DuckDbEngine.prototype.rows;
  DuckDbEngine.prototype.rows = async function (sql: string) {
    const start = performance.now();
    try {
      return await rows.call(this, sql);
    } finally {
      process.stdout.write(`  rows ${(performance.now() - start).toFixed(0)} ms: ${sql.replace(/\s+/g, ' ').slice(0, 160)}\n`);
    }
  };
  const evaluate = DuckDbEngine.prototype.evaluate;
  DuckDbEngine.prototype.evaluate = async function (sql: string, runId: string) {
    if (process.env.LOG_SQL === 'all') process.stdout.write(`  evaluate: ${sql}\n`);
    return evaluate.call(this, sql, runId);
  };
}
timePhase(DuckDbEngine.prototype, 'evaluate', 'evaluate query');
timePhase(DuckDbEngine.prototype, 'members', 'members');
timePhase(DuckDbEngine.prototype, 'encode', 'snapshot encode');
timePhase(DuckDbEngine.prototype, 'decode', 'snapshot decode');

const people = Number(process.env.BENCH_PEOPLE ?? 200_000);
const days = Number(process.env.BENCH_DAYS ?? 90);
const lake = join(resolve(import.meta.dirname), '.cache', `lake-${people}-${days}`);
const project = process.env.PROJECT ?? (await mkdtemp(join(tmpdir(), 'cohorts-bench-profile-')));
const definitions = join(project, 'definitions');
await mkdir(definitions, { recursive: true });
await writeFile(join(definitions, 'bench_checkout_now.yaml'), COHORT);
await writeFile(join(project, 'cohorts.config.yaml'), WARN_ONLY);
const folders = { data: lake, definitions, state: join(project, 'state'), config: join(project, 'cohorts.config.yaml') };
const tick = async (label: string) => {
  const start = performance.now();
  // What `cohorts watch` runs (the refresh steps of `cohorts run --cadence realtime`), without the CLI.
  const ports = await openLocalPorts(folders, await loadConfig(folders.config));
  const run = await runRefreshSteps({ as_of: new Date().toISOString(), trigger: 'watch', cadence: 'realtime' }, ports);
  const ms = performance.now() - start;
  const outcome = run.summary.cohorts[0];
  process.stdout.write(`${label}: ${(ms / 1000).toFixed(2)} s (${outcome?.status} ${outcome?.size}); ${takePhases()}\n`);
};
const landed: string[] = [];
try {
  if (!process.env.PROJECT) await tick('warm-up');
  for (let i = 0; i < Number(process.env.TICKS ?? 3); i += 1) {
    const key = `events/dt=${new Date().toISOString().slice(0, 10)}/bench-profile-${Date.now()}.jsonl`;
    const rows = Array.from({ length: 100 }, (_, n) => ({
      event_id: `bench-profile-${Date.now()}-${n}`,
      source: 'product',
      user_id: `u_${String(n + 1 + i * 100).padStart(6, '0')}`,
      event_name: 'checkout_started',
      ts: new Date(Date.now() - 1000).toISOString(),
      properties: {},
    }));
    await new FsBlobStore(lake).create(key, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    landed.push(join(lake, key));
    await tick(`tick ${i + 1}`);
  }
} finally {
  for (const file of landed) await rm(file, { force: true });
  if (!process.env.KEEP && !process.env.PROJECT) await rm(project, { recursive: true, force: true });
  else process.stdout.write(`kept ${project}\n`);
}
