/**
 * `npm run bench`: the one-pass refresh, run through the state machine's steps as they ship
 * (runRefreshSteps: Plan, Evaluate, Snapshot and Deliver per cohort, Finish), against a raw scan
 * and against one query per cohort, on a cached lake of about 10 million events (200k people,
 * 90 days, Parquet). Prints times, ratios and peak memory; nothing here is asserted by the tests.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compileRefresh } from '../shared/compiler/compile-refresh.ts';
import { openDuckDb } from '../shared/local/open-duckdb.ts';
import { selectForRun } from '../shared/language/catalog.ts';
import { DuckDbEngine } from '../shared/local/duckdb-engine.ts';
import { generateSampleLake } from '../shared/sample/generate-lake.ts';
import { FsBlobStore } from '../shared/local/fs-blob-store.ts';
import { SnapshotStore } from '../shared/store/snapshot-store.ts';
import { BlobExports, type CohortExports } from '../shared/deliver/exports.ts';
import { JsonlEvents } from '../shared/local/jsonl-events.ts';
import { JsonlNotifier } from '../shared/local/jsonl-notifier.ts';
import type { LocalPorts } from '../shared/local/local-ports.ts';
import { runRefreshSteps } from '../shared/workflow/run-steps.ts';
import type { WorkflowSummary } from '../shared/workflow/types.ts';
import { findLakeFiles } from '../shared/local/lake-files.ts';
import { benchSource } from './bench-catalog.ts';
import { appendNewDay } from './bench-state.ts';
import { benchLatency } from './latency-bench.ts';
import { LocalCarry } from '../shared/local/local-carry.ts';
import { LocalTileStore } from '../shared/local/local-tiles.ts';
import { takePhases, timePhase, timePhases } from './phases.ts';
import { LocalTiles } from '../shared/local/local-tile-store.ts';
import { LocalSourceChecks } from '../shared/local/local-source-checks.ts';
import { querySourceChecks, type SourceCheckSource } from '../shared/checks/source-check-source.ts';

// Where a refresh's time goes: each phase's own time (nested phases subtracted), printed per run.
timePhase(LocalTileStore.prototype, 'refresh', 'tiles: listing and fingerprints');
timePhase(LocalTileStore.prototype, 'refreshIndex', 'tiles: id index and contested');
timePhase(LocalTileStore.prototype, 'build', 'tiles: build');
timePhase(LocalCarry.prototype, 'relations', 'tiles: carried partials');
timePhase(DuckDbEngine.prototype, 'lake', 'lake listing');
// Outside any other phase, the engine's rows are the inexact sums' (inside the source checks, theirs).
timePhase(DuckDbEngine.prototype, 'rows', 'engine rows (inexact sums)', { outermost: true });
timePhase(DuckDbEngine.prototype, 'evaluate', 'evaluate query');
timePhase(DuckDbEngine.prototype, 'members', 'members');
timePhase(DuckDbEngine.prototype, 'encode', 'snapshot encode');
timePhase(DuckDbEngine.prototype, 'decode', 'snapshot decode');
timePhase(BlobExports.prototype, 'write', 'export files');
// The fixed cost of every refresh outside the query and the tiles: what the steps read and write besides.
timePhases(
  SnapshotStore.prototype,
  [
    'versions',
    'nextVersion',
    'newestStarted',
    'manifest',
    'manifests',
    'manifestsAsOf',
    'recentPublished',
    'publishedManifests',
    'lostPublishes',
    'lostVersions',
    'current',
    'members',
    'holdout',
  ],
  'snapshot reads',
);
timePhases(SnapshotStore.prototype, ['write', 'writeHoldout', 'publish'], 'snapshot writes');
timePhases(BlobExports.prototype, ['latestVersion', 'announcedVersion', 'markAnnounced'], 'export records');
timePhase(DuckDbEngine.prototype, 'kpis', 'kpis');
timePhase(JsonlEvents.prototype, 'publish', 'events');
timePhase(JsonlNotifier.prototype, 'notify', 'alerts');
timePhases(LocalTiles.prototype, ['population', 'fractionalSums', 'expire', 'bytesOf'], 'tiles: population, fractional, expiry, bytes');

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 200_000);
const DAYS = Number(process.env.BENCH_DAYS ?? 90);
const END = new Date('2024-06-01T00:00:00Z');
const root = resolve(import.meta.dirname);
const lake = join(root, '.cache', `lake-${PEOPLE}-${DAYS}`);

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
/** Wall time and process CPU time (DuckDB's threads included: the steadier reading on a loaded machine). */
async function timed<T>(label: string, work: () => Promise<T>): Promise<{ ms: number; cpuMs: number; value: T }> {
  process.stderr.write(`${label}...\n`);
  const start = performance.now();
  const cpu = process.cpuUsage();
  const value = await work();
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - start, cpuMs: (used.user + used.system) / 1000, value };
}
const cpuOf = (t: { cpuMs: number }) => `${(t.cpuMs / 1000).toFixed(2)} s CPU`;

if (!existsSync(join(lake, 'events'))) {
  const made = await timed(`generating the bench lake (${PEOPLE} people, ${DAYS} days) in ${lake}`, () =>
    generateSampleLake({
      dir: lake,
      people: PEOPLE,
      days: DAYS,
      end: END,
      seed: 7,
      onProgress: (d, t) => process.stderr.write(`\r  ${d}/${t}`),
    }),
  );
  process.stderr.write(`\n  ${made.value.events} events in ${seconds(made.ms)}\n`);
}

const { definitions: catalog, texts } = await benchSource(resolve(root, '..', 'definitions'));
// The target is a 2 GB machine: DuckDB gets 1.5 GB and spills beyond it.
const MEMORY_LIMIT = process.env.BENCH_MEMORY_LIMIT ?? '1500MB';
const connection = await openDuckDb({ memoryLimit: MEMORY_LIMIT });
const engine = new DuckDbEngine(connection, lake, await DuckDbEngine.describe(connection));
const view = await engine.lake();
const eventCount = Number((await connection.runAndReadAll(`SELECT count(*) FROM ${view.relations.events}`)).getRows()[0]?.[0]);

// (a) a raw scan of every column the catalog needs, nothing computed
const raw = await timed('(a) raw scan of the needed columns', async () => {
  await connection.run(
    `SELECT count(event_id), count(source), count(user_id), count(event_name), max(ts), sum(length(properties)), sum(value) FROM ${view.relations.events}`,
  );
});

// (b) the refresh as it ships: one query for all cohorts, then per cohort a snapshot and its
// delivery (exports and an event), as `cohorts run` has them, without the guardrails and privacy
const state = await mkdtemp(join(tmpdir(), 'cohorts-bench-'));
const blobs = new FsBlobStore(state);
const exports = new BlobExports(blobs, engine);
// How long Deliver spends writing export files (members, entered, exited; CSV and Parquet).
let exportMs = 0;
const timedExports: CohortExports = {
  write: async (input) => {
    const start = performance.now();
    try {
      return await exports.write(input);
    } finally {
      exportMs += performance.now() - start;
    }
  },
  latestVersion: (cohort) => exports.latestVersion(cohort),
  announcedVersion: (cohort) => exports.announcedVersion(cohort),
  markAnnounced: (cohort, version) => exports.markAnnounced(cohort, version),
};
// The source checks as `cohorts run` has them: the parts it keeps in the state folder between runs
// (shared/local/local-source-checks.ts; a run computes only the partitions that changed or hold rows at
// or after its as-of). BENCH_QUERY_CHECKS=1: their one query over the window every run (the steps' default).
const queryChecks = process.env.BENCH_QUERY_CHECKS === '1';
const checksLabel = queryChecks ? 'their query every run (BENCH_QUERY_CHECKS=1)' : 'kept parts, as `cohorts run`';
const sourceChecksIn = (dir: string): SourceCheckSource => {
  const checks = queryChecks ? querySourceChecks(engine) : new LocalSourceChecks(connection, engine, lake, dir);
  timePhase(checks, 'rows', 'source checks');
  return checks;
};
/** The shipped steps' ports over a state folder (exports timed into exportMs). */
const portsIn = (dir: string, blobStore: FsBlobStore, exportFiles: CohortExports, sourceChecks = sourceChecksIn(dir)): LocalPorts => ({
  sourceChecks,
  definitions: async () => ({ definitions: catalog, problems: [], texts }),
  engine,
  store: new SnapshotStore(blobStore, engine),
  notifier: JsonlNotifier.inState(dir),
  exports: exportFiles,
  events: JsonlEvents.inState(dir),
  tiles: engine.tiles(dir),
});
const ports = portsIn(state, blobs, timedExports);
const full = await timed(`(b) refresh of ${catalog.length} cohorts through the shipped steps`, async () => {
  const { summary } = await runRefreshSteps({ as_of: END.toISOString(), trigger: 'bench', mode: 'full' }, ports);
  return summary;
});
const fullPhases = takePhases(full.ms);
const evaluateOnly = await timed("(b') the one-pass query alone", async () => {
  const compiled = compileRefresh({ cohorts: catalog, asOf: END, lake: view.relations, dialect: engine.dialect });
  await engine.release(await engine.evaluate(compiled.sql, 'bench-one-pass'));
});

// (c) one query per cohort (with what it references), members read back, as a team scheduling them by hand would
// BENCH_SKIP_SEPARATE=1 leaves (c) out (it takes about 13 minutes on the bench lake).
const skipSeparate = process.env.BENCH_SKIP_SEPARATE === '1';
const separate = await timed(`(c) ${catalog.length} separate queries${skipSeparate ? ' (skipped)' : ''}`, async () => {
  if (skipSeparate) return;
  for (const cohort of catalog) {
    const cohorts = selectForRun(catalog, { ids: [cohort.id] });
    const compiled = compileRefresh({ cohorts, asOf: END, lake: view.relations, dialect: engine.dialect });
    const result = await engine.evaluate(compiled.sql, `bench-${cohort.id}`);
    await engine.members(result, compiled.columns.get(cohort.id) as string);
    await engine.release(result);
  }
});
await rm(state, { recursive: true, force: true });

// (e) a cold refresh over tiles: a state folder without tiles, every tile day built, then evaluated.
const tiledState = await mkdtemp(join(tmpdir(), 'cohorts-bench-tiles-'));
const tiledBlobs = new FsBlobStore(tiledState);
const tiledChecks = sourceChecksIn(tiledState);
const tiledPorts = portsIn(tiledState, tiledBlobs, new BlobExports(tiledBlobs, engine), tiledChecks);
const tiledRun = (asOf: Date) => runRefreshSteps({ as_of: asOf.toISOString(), trigger: 'bench', mode: 'tiles' }, tiledPorts);
/**
 * The source checks' rows at `asOf` from the ports' source (the kept parts, once (d) kept them) against
 * their query over the whole window: the same rows, or the bench says they differ (outside any timing).
 */
async function checkRowsAgree(source: SourceCheckSource, asOf: Date): Promise<string> {
  if (queryChecks) return 'not compared (BENCH_QUERY_CHECKS=1)';
  const lakeNow = await engine.lake();
  const sorted = (rows: readonly object[]) => rows.map((row) => JSON.stringify(row)).sort();
  const [kept, queried] = [sorted(await source.rows(asOf, lakeNow)), sorted(await querySourceChecks(engine).rows(asOf, lakeNow))];
  const same = kept.length === queried.length && kept.every((row, i) => row === queried[i]);
  if (!same) process.exitCode = 1;
  return same
    ? `the same ${kept.length} rows as their query at X + 1`
    : `DIFFERENT from their query at X + 1 (${kept.length} rows against ${queried.length})`;
}
takePhases();
const cold = await timed('(e) cold refresh over tiles: every tile built, then evaluated', async () => (await tiledRun(END)).summary);
const coldPhases = takePhases(cold.ms);

// (d) one new day of events (the last full day again, a day later, with new event ids: 1/DAYS of
// the lake) appended to the lake, then the refresh as of X + 1 day over the tiles (e) left.
const NEXT = new Date(END.getTime() + 86_400_000);
const newDay = await appendNewDay(connection, lake, END);
let next: Awaited<ReturnType<typeof timed<WorkflowSummary>>>;
let nextPhases: string;
let checksAgree: string;
try {
  takePhases();
  next = await timed('(d) refresh as of X + 1 day after one new day, over the tiles', async () => (await tiledRun(NEXT)).summary);
  nextPhases = takePhases(next.ms);
  checksAgree = await checkRowsAgree(tiledChecks, NEXT);
  takePhases();
} finally {
  await rm(newDay, { force: true });
  await rm(tiledState, { recursive: true, force: true });
}
const fileBytes = async (files: readonly string[]) =>
  (await Promise.all(files.map(async (f) => (await stat(f)).size))).reduce((a, b) => a + b, 0);
const lakeBytes = await fileBytes((await findLakeFiles(lake)).events.parquet);
const mb = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : `${(bytes / 1e6).toFixed(0)} MB`);
const bytesOf = (summary: WorkflowSummary) => summary.tiles.bytes_scanned ?? {};

const peakMb = process.resourceUsage().maxRSS / 1024;
const sizes = full.value.cohorts.map((c) => c.size);
const exported = full.value.deliveries.filter((d) => d.exports !== null).length;
const announced = full.value.deliveries.filter((d) => d.event !== null).length;
const lines = [
  `lake: ${eventCount} events, ${full.value.population} people, ${DAYS} days (${lake})`,
  `catalog: ${catalog.length} cohorts, sizes ${Math.min(...sizes)}..${Math.max(...sizes)}`,
  `delivered: ${exported} of ${full.value.cohorts.length} versions exported (the others held), ${announced} events`,
  `(a) raw scan:                 ${seconds(raw.ms)} (${cpuOf(raw)})`,
  `(b) full refresh (steps):     ${seconds(full.ms)} (${cpuOf(full)})  (the one query alone: ${seconds(evaluateOnly.ms)}; writing exports: ${seconds(exportMs)})`,
  `(c) one query per cohort:     ${skipSeparate ? 'skipped (BENCH_SKIP_SEPARATE=1)' : seconds(separate.ms)}`,
  `b/a = ${(full.ms / raw.ms).toFixed(2)} (target <= 3)${skipSeparate ? '' : `   c/b = ${(separate.ms / full.ms).toFixed(2)}`}`,
  `(e) cold refresh over tiles:  ${seconds(cold.ms)} (${cpuOf(cold)})  (${cold.value.tiles.built_days} tile days built)`,
  `(d) one new day, X + 1:       ${seconds(next.ms)} (${cpuOf(next)})  (${next.value.tiles.built_days} built, ${next.value.tiles.rebuilt_days} rebuilt, ${next.value.tiles.reused_days} reused; raw measures ${next.value.tiles.raw_measures.length})`,
  `source checks: ${checksLabel}; kept parts at X + 1: ${checksAgree}`,
  `phases (b): ${fullPhases}`,
  `phases (e): ${coldPhases}`,
  `phases (d): ${nextPhases}`,
  `CPU: d/b = ${(next.cpuMs / full.cpuMs).toFixed(2)}   e/b = ${(cold.cpuMs / full.cpuMs).toFixed(2)}`,
  `d/b = ${(next.ms / full.ms).toFixed(2)} (target <= 0.25)   d/a = ${(next.ms / raw.ms).toFixed(2)} (moonshot < 1)   e/b = ${(cold.ms / full.ms).toFixed(2)} (target <= 1)`,
  `bytes read (file sizes): lake ${mb(lakeBytes)}; full refresh ${mb(bytesOf(full.value).evaluate ?? lakeBytes)}; (d) evaluate ${mb(bytesOf(next.value).evaluate)} vs full ${mb(bytesOf(next.value).full_estimate)}; (e) evaluate ${mb(bytesOf(cold.value).evaluate)}`,
  `peak memory (max RSS of this process, DuckDB included): ${peakMb.toFixed(0)} MB (target < 1500 MB, issue 14; DuckDB memory_limit ${MEMORY_LIMIT})`,
  `cores: ${availableParallelism()}`,
];
// (f) with `cohorts watch` over the lake: bench/latency-bench.ts.
const latency = await timed('(f) watch: a file making 100 people enter a realtime cohort, until their Cohort Entered', () =>
  benchLatency(lake),
);
lines.push(
  `(f) event file to Cohort Entered: ${seconds(latency.value.ms)} (target < 5 s; waited for ${latency.value.signal}; watch's first refresh ${seconds(latency.value.warmUpMs)})`,
);
process.stdout.write(`${lines.join('\n')}\n`);
