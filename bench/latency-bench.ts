/**
 * Bench (f), called by `npm run bench` (or alone: `npx tsx bench/latency-bench.ts`): with
 * `cohorts watch` running over the bench lake (a child process, as a user runs it), one file
 * lands holding events that make 100 known people enter a realtime cohort; the figure is the time
 * from the file being in place until their `Cohort Entered` events are in `events.jsonl` (until
 * the watch prints them as entered, where the per-member events are not written yet). Target: < 5 s.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FsBlobStore } from '../shared/local/fs-blob-store.ts';

/** The cohort the bench watches: anyone who started a checkout in the last hour (no bench lake event is one). */
export const COHORT = `id: bench_checkout_now
name: Checkout now
owner: bench
purpose: People who started a checkout in the last hour, refreshed in real time.
cadence: realtime
rule:
  event: checkout_started
  within: 1h
`;

/** Source checks that only warn: the bench lake ended long before the moment watch refreshes at. */
export const WARN_ONLY = `defaults:
  freshness_hours: 300
checks:
  freshness: {warn: 1, fail: 2}
  volume: {warn: 3.5, fail: 1000000}
`;

const PEOPLE = 100;

/** What (f) measured. */
export interface LatencyFigure {
  /** From the file in place to the last of the 100 people announced. */
  readonly ms: number;
  /** What was waited for: the events file, or watch's printed list. */
  readonly signal: 'events.jsonl' | 'watch output';
  /** The watch's first refresh (every tile day built), before the file landed. */
  readonly warmUpMs: number;
}

/** Every one of `ids` named by some `Cohort Entered` line of the events file after `offset`. */
async function allEntered(eventsFile: string, offset: number, ids: readonly string[]): Promise<boolean> {
  if (!existsSync(eventsFile)) return false;
  const text = (await readFile(eventsFile, 'utf8')).slice(offset);
  const entered = text.split('\n').filter((line) => line.includes('Cohort Entered') && line.includes('bench_checkout_now'));
  if (entered.length === 0) return false;
  const all = entered.join('\n');
  return ids.every((id) => all.includes(`"${id}"`));
}

async function until(
  check: () => Promise<boolean> | boolean,
  child: ChildProcess,
  failed: () => boolean,
  what: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (child.exitCode !== null) throw new Error(`watch ended (exit ${child.exitCode}) while waiting for ${what}`);
    if (failed()) throw new Error(`a refresh failed while waiting for ${what}`);
    if (Date.now() > deadline) throw new Error(`no ${what} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs (f) over `lake`; the file it appends and the state it writes are removed afterwards. */
export async function benchLatency(lake: string): Promise<LatencyFigure> {
  const project = await mkdtemp(join(tmpdir(), 'cohorts-bench-watch-'));
  const definitions = join(project, 'definitions');
  const state = join(project, 'state');
  await mkdir(definitions);
  await writeFile(join(definitions, 'bench_checkout_now.yaml'), COHORT);
  await writeFile(join(project, 'cohorts.config.yaml'), WARN_ONLY);
  const main = resolve(import.meta.dirname, '..', 'shared', 'cli', 'main.ts');
  const tsx = createRequire(import.meta.url).resolve('tsx');
  const args = ['watch', '--data', lake, '--definitions', definitions, '--state', state, '--config', join(project, 'cohorts.config.yaml')];
  const child = spawn(process.execPath, ['--import', tsx, main, ...args], {
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const failed = () => err.includes('refresh failed:');
  const day = new Date().toISOString().slice(0, 10);
  const partition = join(lake, 'events', `dt=${day}`);
  const hadPartition = existsSync(partition);
  const key = `events/dt=${day}/bench-latency-${Date.now()}.jsonl`;
  try {
    const started = performance.now();
    await until(() => /bench_checkout_now v1: /.test(out), child, failed, 'first refresh', 30 * 60_000);
    const warmUpMs = performance.now() - started;
    const eventsFile = join(state, 'events.jsonl');
    const offset = existsSync(eventsFile) ? (await readFile(eventsFile, 'utf8')).length : 0;
    const ids = Array.from({ length: PEOPLE }, (_, i) => `u_${String(i + 1).padStart(6, '0')}`);
    const at = new Date(Date.now() - 1000).toISOString();
    const rows = ids.map((user_id, i) => ({
      event_id: `bench-latency-${Date.now()}-${i}`,
      source: 'product',
      user_id,
      event_name: 'checkout_started',
      ts: at,
      properties: { plan: 'team' },
    }));
    const landed = performance.now();
    await new FsBlobStore(lake).create(key, `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`);
    let signal: LatencyFigure['signal'] = 'events.jsonl';
    await until(
      async () => {
        if (await allEntered(eventsFile, offset, ids)) return true;
        if (/bench_checkout_now v\d+: 100 members, \+100 entered/.test(out)) {
          // Before per-member events exist, watch's printed list is the signal.
          if ((await readFile(eventsFile, 'utf8').catch(() => '')).includes('Cohort Entered')) return false;
          signal = 'watch output';
          return true;
        }
        return false;
      },
      child,
      failed,
      'Cohort Entered of the 100 people',
      5 * 60_000,
    );
    return { ms: performance.now() - landed, signal, warmUpMs };
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\nwatch printed:\n${out}\n${err}`);
  } finally {
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
    await rm(join(lake, key), { force: true });
    if (!hadPartition && (await readdir(partition).catch(() => ['?'])).length === 0) await rmdir(partition);
    await rm(project, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const people = Number(process.env.BENCH_PEOPLE ?? 200_000);
  const days = Number(process.env.BENCH_DAYS ?? 90);
  const lake = join(resolve(import.meta.dirname), '.cache', `lake-${people}-${days}`);
  const figure = await benchLatency(lake);
  process.stdout.write(
    `(f) event to Cohort Entered: ${(figure.ms / 1000).toFixed(2)} s (target < 5 s; waited for ${figure.signal}; watch's first refresh ${(figure.warmUpMs / 1000).toFixed(1)} s)\n`,
  );
}
