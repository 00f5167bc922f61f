import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import { findLeftovers } from '../../shared/local/leftovers.ts';
import { RUN_LOCK } from '../../shared/local/run-lock.ts';
import { cohorts, projectFolders, tempDir } from '../support/cli.ts';
import { startCli } from '../support/cli-process.ts';
import { WARN_ONLY_CONFIG_YAML } from '../support/config.ts';
import { type EventRow, header, writeDefinitions, writeLake } from '../support/lake.ts';

/** A product event of `user` half a minute ago. */
const recent = (id: string, user: string, event_name: string): EventRow => ({
  event_id: id,
  source: 'product',
  user_id: user,
  event_name,
  ts: new Date(Date.now() - 30_000).toISOString(),
});

/** Lands a JSON Lines file in today's partition the way a writer must: whole, under its final name at once. */
async function land(data: string, name: string, rows: readonly EventRow[]): Promise<void> {
  const day = new Date().toISOString().slice(0, 10);
  await new FsBlobStore(data).create(`events/dt=${day}/${name}.jsonl`, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
}

/** Sends events through `cohorts ingest FILE`, as a producer on a laptop would; every line must be kept. */
async function ingest(root: string, data: string, name: string, rows: readonly EventRow[]): Promise<void> {
  const file = join(root, `${name}.jsonl`);
  await writeFile(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
  const result = await cohorts('ingest', file, '--data', data);
  expect(result.stderr.join('\n')).not.toContain('refused');
  expect(result.code).toBe(0);
}

/**
 * A project whose realtime cohort holds people who used a feature in the last hour without
 * exporting in it, beside a daily cohort that watch never refreshes.
 */
async function givenRealtimeProject(): Promise<{ root: string; data: string; args: string[] }> {
  const root = await tempDir('cohorts-watch-');
  const data = join(root, 'data');
  await writeLake(data, [{ event_id: 'old', source: 'product', user_id: 'ann', event_name: 'feature_used', ts: '2024-05-01T00:00:00Z' }]);
  await writeDefinitions(join(root, 'definitions'), {
    'browsing_now.yaml': `${header('browsing_now').replace('cadence: daily', 'cadence: realtime')}rule:
  all:
    - event: feature_used
      within: 1h
    - not:
        event: export_created
        within: 1h
`,
    'ever_used.yaml': `${header('ever_used')}rule:\n  event: feature_used\n`,
  });
  await writeFile(join(root, 'cohorts.config.yaml'), WARN_ONLY_CONFIG_YAML);
  return { root, data, args: projectFolders(root) };
}

describe('cohorts watch, before it starts', () => {
  it('refuses a missing lake before announcing the watch: the lake error alone, exit 1 as run gives', async () => {
    const { root, args } = await givenRealtimeProject();
    const missing = join(root, 'no-lake');
    const result = await cohorts('watch', ...args, '--data', missing);
    expect(result.stderr).toEqual([
      `no event lake at ${missing}: expected ${join(missing, 'events')}/dt=YYYY-MM-DD/ (run \`cohorts sample-data\` to make one)`,
    ]);
    expect(result.code).toBe(1);
    expect((await cohorts('run', ...args, '--data', missing)).code).toBe(1);
  });
});

describe('cohorts watch (a child process, as in a terminal)', () => {
  it('refreshes the realtime cohorts as files land, printing who entered and exited, goes on after a failed refresh, and stops cleanly on Ctrl-C', async () => {
    // GIVEN a project and watch running over it
    const { root, data, args } = await givenRealtimeProject();
    const watch = startCli(['watch', '--debounce', '300', ...args]);
    try {
      // THEN it first refreshes the lake as found: nobody is browsing now
      await watch.waitFor(/browsing_now v1: 0 members/);
      // WHEN bob and cid use a feature THEN both enter
      await land(data, 'a', [recent('a1', 'bob', 'feature_used'), recent('a2', 'cid', 'feature_used')]);
      await watch.waitFor(/browsing_now v2: 2 members, \+2 entered, -0 exited\n {2}\+ bob, cid\n/);
      // WHEN bob exports, sent through `cohorts ingest`, THEN he exits and cid stays
      await ingest(root, data, 'b', [recent('b1', 'bob', 'export_created')]);
      await watch.waitFor(/browsing_now v3: 1 members, \+0 entered, -1 exited\n {2}- bob\n/);
      // WHEN a file the engine cannot read lands THEN the failure is printed and watch goes on
      const broken = join(data, 'events', `dt=${new Date().toISOString().slice(0, 10)}`, 'broken.parquet');
      await writeFile(broken, 'not parquet');
      await watch.waitFor(/refresh failed: .*\(still watching\)/, 60_000, 'stderr');
      await rm(broken);
      await ingest(root, data, 'c', [recent('c1', 'dan', 'feature_used')]);
      await watch.waitFor(/browsing_now v4: 2 members, \+1 entered, -0 exited\n {2}\+ dan\n/);
    } finally {
      // WHEN Ctrl-C THEN it exits 0, saying what it did, and leaves the state folder unlocked
      expect(await watch.stop('SIGINT')).toBe(0);
    }
    expect(watch.stderr()).toMatch(/stopped: 4 refreshes, 1 failed/);
    expect(existsSync(join(root, 'state', RUN_LOCK))).toBe(false);
    // AND downstream got one event per person who moved, as each refresh published
    const moves = (await readFile(join(root, 'state', 'events.jsonl'), 'utf8'))
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { 'detail-type': string; detail: { cohort?: string; version?: number; person_id?: string } })
      .filter((e) => e['detail-type'] === 'Cohort Entered' || e['detail-type'] === 'Cohort Exited')
      .map((e) => `${e['detail-type']} ${e.detail.cohort} v${e.detail.version} ${e.detail.person_id}`);
    expect(moves).toEqual([
      'Cohort Entered browsing_now v2 bob',
      'Cohort Entered browsing_now v2 cid',
      'Cohort Exited browsing_now v3 bob',
      'Cohort Entered browsing_now v4 dan',
    ]);
    // AND the daily cohort was never refreshed by it
    expect(watch.stdout()).not.toContain('ever_used');
  }, 240_000);

  it('Ctrl-C during a refresh lets it finish: its version is published, announced and unlocked, nothing left behind', async () => {
    // GIVEN watch over a realtime project, done with its first refresh
    const { root, data, args } = await givenRealtimeProject();
    const state = join(root, 'state');
    const watch = startCli(['watch', '--debounce', '300', ...args]);
    await watch.waitFor(/browsing_now v1: 0 members/);

    // WHEN a file lands and Ctrl-C comes once its refresh holds the state folder's lock
    await land(data, 'a', [recent('a1', 'bob', 'feature_used')]);
    for (const started = Date.now(); !existsSync(join(state, RUN_LOCK)); ) {
      if (Date.now() - started > 120_000) throw new Error('no refresh started');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const code = await watch.stop('SIGINT');

    // THEN that refresh finished and watch exits 0, unlocked, with no crash leftovers
    expect(code).toBe(0);
    expect(watch.stdout()).toMatch(/browsing_now v2: 1 members, \+1 entered, -0 exited\n {2}\+ bob\n/);
    expect(watch.stderr()).toMatch(/stopped: 2 refreshes, 0 failed/);
    expect(existsSync(join(state, RUN_LOCK))).toBe(false);
    expect(await findLeftovers(state)).toEqual([]);
    // AND its version was announced, bob's move with it, every line whole
    const events = (await readFile(join(state, 'events.jsonl'), 'utf8'))
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { 'detail-type': string; detail: { version?: number; person_id?: string } })
      .filter((e) => e.detail.version === 2)
      .map((e) => `${e['detail-type']} ${e.detail.person_id ?? ''}`.trim());
    expect(events).toEqual(['Cohort Entered bob', 'Cohort Refreshed']);
  }, 240_000);

  it('sample-data --stream appends whole files of valid events to today until Ctrl-C, leaving no temporary file', async () => {
    const root = await tempDir('cohorts-stream-');
    const data = join(root, 'data');
    const stream = startCli(['sample-data', '--stream', '--interval', '100', '--people', '50', '--data', data]);
    await stream.waitFor(/appended 20 events(.|\n)*appended 20 events/, 60_000, 'stderr');
    expect(await stream.stop('SIGTERM')).toBe(0);
    const folder = join(data, 'events', `dt=${new Date().toISOString().slice(0, 10)}`);
    const names = await readdir(folder);
    expect(names.filter((n) => !/^stream-.*\.jsonl$/.test(n))).toEqual([]);
    const files = Number(/stopped: (\d+) events in (\d+) files?$/m.exec(stream.stderr())?.[2]);
    expect(names).toHaveLength(files);
    for (const name of names) {
      const lines = (await readFile(join(folder, name), 'utf8')).trimEnd().split('\n');
      expect(lines).toHaveLength(20);
      for (const line of lines) {
        expect(JSON.parse(line)).toMatchObject({ source: 'product', user_id: expect.stringMatching(/^u_0000[0-5]\d$/) });
      }
    }
  }, 120_000);

  it('sample-data --stream stopped by Ctrl-C after one file says what it wrote in words that read right', async () => {
    const data = join(await tempDir('cohorts-stream-'), 'data');
    const stream = startCli(['sample-data', '--stream', '--interval', '600000', '--people', '50', '--data', data]);
    await stream.waitFor(/appended 20 events/, 60_000, 'stderr');
    expect(await stream.stop('SIGINT')).toBe(0);
    const [day] = await readdir(join(data, 'events'));
    const folder = join(data, 'events', day ?? '');
    const [name] = await readdir(folder);
    expect(stream.stderr().trimEnd().split('\n')).toEqual([
      `appending sample events to ${data}/events/ every 600000 ms (Ctrl-C stops)`,
      `appended 20 events: ${join(folder, name ?? '')}`,
      'stopped: 20 events in 1 file',
    ]);
  }, 120_000);
});
