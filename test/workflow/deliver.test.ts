import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BlobExports, latestKey } from '../../shared/deliver/exports.ts';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import { runRefreshStateMachine } from '../../shared/workflow/local-runner.ts';
import { refreshStateMachineAsl } from '../../infra/synthesized-definition.ts';
import type { WorkflowSummary } from '../../shared/workflow/types.ts';
import { tempDir } from '../support/cli.ts';
import { header, writeDefinitions } from '../support/lake.ts';
import { eventsOf, givenLake, givenWorld, portsOf, type World } from './support.ts';

const FIRST = '2024-06-01T00:00:00Z';
/** Later: ann's last login is more than 7 days old, so she leaves active_users. */
const LATER = '2024-06-06T12:00:00Z';

const csvIds = async (path: string) => (await readFile(path, 'utf8')).split('\n').slice(1, -1);

describe('delivery of a local refresh', () => {
  let world: World;
  let first: WorkflowSummary;
  let later: WorkflowSummary;

  beforeAll(async () => {
    const lake = await givenLake();
    // big_cohort has 3 members: a minimum of 4 holds every version of it.
    await writeDefinitions(lake.definitions, {
      'big_cohort.yaml': `${header('big_cohort')}rule:\n  event: login\nquality:\n  min_size: 4\n`,
    });
    world = await givenWorld(lake);
    first = (await runRefreshStateMachine(refreshStateMachineAsl, { as_of: FIRST }, portsOf(world))).summary;
    later = (await runRefreshStateMachine(refreshStateMachineAsl, { as_of: LATER }, portsOf(world))).summary;
  });

  it('exports every published version in the exports layout: members, entered and exited as CSV and Parquet', async () => {
    const published = first.cohorts.filter((c) => c.status === 'published');
    expect(published.length).toBeGreaterThan(0);
    for (const outcome of published) {
      const folder = join(world.state, 'exports', `cohort=${outcome.cohort}`, `version=${outcome.version}`);
      const members = await world.store.members(outcome.cohort, outcome.version);
      expect(await csvIds(join(folder, 'members.csv')), outcome.cohort).toEqual(members);
      expect(await world.engine.decode(new Uint8Array(await readFile(join(folder, 'members.parquet'))))).toEqual(members);
      // First versions: everyone entered, nobody exited.
      expect(await csvIds(join(folder, 'entered.csv'))).toEqual(members);
      expect(await world.engine.decode(new Uint8Array(await readFile(join(folder, 'exited.parquet'))))).toEqual([]);
    }
  });

  it('exports who entered and exited since the previous published version', async () => {
    const active = later.cohorts.find((c) => c.cohort === 'active_users');
    expect(active).toMatchObject({ status: 'published', version: 2, previous_version: 1 });
    const delivery = later.deliveries.find((d) => d.cohort === 'active_users');

    expect(await csvIds(delivery?.exports?.exited_csv ?? '')).toEqual(['ann']);
    expect(await csvIds(delivery?.exports?.entered_csv ?? '')).toEqual([]);
    expect(await world.engine.decode(new Uint8Array(await readFile(delivery?.exports?.exited_parquet ?? '')))).toEqual(['ann']);
    expect(JSON.parse(await readFile(delivery?.exports?.latest ?? '', 'utf8'))).toMatchObject({
      cohort: 'active_users',
      version: 2,
      as_of: '2024-06-06T12:00:00.000Z',
      size: active?.size,
      entered: 0,
      exited: 1,
      exited_csv: delivery?.exports?.exited_csv,
    });
  });

  it('announces each new version once, published as Cohort Refreshed with its exports, held as Cohort Held without', async () => {
    const events = (await eventsOf(world)).filter((e) => e['detail-type'] === 'Cohort Refreshed' || e['detail-type'] === 'Cohort Held');
    const written = [...first.cohorts, ...later.cohorts].filter((c) => c.status !== 'unchanged');

    expect(events).toHaveLength(written.length);
    for (const outcome of written) {
      const event = events.find((e) => e.detail.cohort === outcome.cohort && e.detail.version === outcome.version);
      expect(event, `${outcome.cohort} v${outcome.version}`).toMatchObject({
        source: 'cohort-refresh',
        'detail-type': outcome.status === 'published' ? 'Cohort Refreshed' : 'Cohort Held',
        detail: { status: outcome.status, size: outcome.size, entered: outcome.entered, exited: outcome.exited, trigger: 'manual' },
      });
      expect(event?.detail.locations.manifest).toBe(join(world.store.locate(outcome.cohort, outcome.version), 'manifest.json'));
      if (outcome.status === 'held') expect(event?.detail.locations.exports).toBeUndefined();
      else expect(event?.detail.locations.exports?.members_csv).toMatch(/exports\/cohort=\w+\/version=\d+\/members\.csv$/);
    }
    expect(written.some((c) => c.status === 'held')).toBe(true);
  });

  it('announces who entered and exited each published version, one event per person, before the version itself', async () => {
    const events = await eventsOf(world);
    const moves = events.filter((e) => e['detail-type'] === 'Cohort Entered' || e['detail-type'] === 'Cohort Exited');
    const of = (cohort: string, version: number) =>
      moves.filter((e) => e.detail.cohort === cohort && e.detail.version === version).map((e) => [e['detail-type'], e.detail.person_id]);
    const activeFirst = await world.store.members('active_users', 1);

    // A first version: every member entered.
    expect(of('active_users', 1)).toEqual(activeFirst.map((id) => ['Cohort Entered', id]));
    // Later ann's last login is too old: she exited, nobody entered.
    expect(of('active_users', 2)).toEqual([['Cohort Exited', 'ann']]);
    expect(moves.find((e) => e.detail.version === 2 && e.detail.cohort === 'active_users')).toEqual({
      source: 'cohort-refresh',
      'detail-type': 'Cohort Exited',
      time: expect.any(String),
      detail: { cohort: 'active_users', version: 2, person_id: 'ann', as_of: '2024-06-06T12:00:00.000Z', run_id: expect.any(String) },
    });
    // Each before its version's Cohort Refreshed; none for a held version.
    const refreshedAt = events.findIndex(
      (e) => e['detail-type'] === 'Cohort Refreshed' && e.detail.cohort === 'active_users' && e.detail.version === 2,
    );
    expect(events.findIndex((e) => e['detail-type'] === 'Cohort Exited' && e.detail.cohort === 'active_users')).toBeLessThan(refreshedAt);
    expect(moves.filter((e) => e.detail.cohort === 'big_cohort')).toEqual([]);
    expect(
      moves.every(
        (e) =>
          e.detail.run_id ===
          events.find(
            (v) => v['detail-type'] === 'Cohort Refreshed' && v.detail.cohort === e.detail.cohort && v.detail.version === e.detail.version,
          )?.detail.run_id,
      ),
    ).toBe(true);
  });

  it('never exports a held version', async () => {
    const held = first.cohorts.filter((c) => c.status === 'held');
    expect(held.map((c) => c.cohort)).toEqual(['big_cohort']);
    for (const outcome of held) {
      const delivery = first.deliveries.find((d) => d.cohort === outcome.cohort);
      expect(delivery).toMatchObject({ event: 'Cohort Held', exports: null });
      await expect(readFile(join(world.state, 'exports', `cohort=${outcome.cohort}`, 'latest.json'))).rejects.toMatchObject({
        code: 'ENOENT',
      });
    }
  });

  it('says nothing and writes nothing when a run finds every version unchanged', async () => {
    const before = await eventsOf(world);

    const { summary: again } = await runRefreshStateMachine(refreshStateMachineAsl, { as_of: LATER }, portsOf(world));

    expect(again.cohorts.every((c) => c.status === 'unchanged')).toBe(true);
    expect(again.deliveries.every((d) => d.event === null && d.exports === null)).toBe(true);
    expect(await eventsOf(world)).toEqual(before);
  });
});

describe('the exports of a blob store', () => {
  it('never move latest.json back to an older version, a late retry for instance', async () => {
    // Prepare
    const world = await givenWorld(await givenLake());
    const exports = new BlobExports(new FsBlobStore(await tempDir('cohorts-exports-')), world.engine);
    const version = (n: number) => ({ cohort: 'payers', version: n, asOf: FIRST, members: ['a', 'b'], entered: ['b'], exited: [] });
    // Act
    await exports.write(version(2));
    const late = await exports.write(version(1));
    // Assess
    expect(await exports.latestVersion('payers')).toBe(2);
    expect(late.latest.endsWith(latestKey('payers'))).toBe(true);
    expect(await csvIds(late.members_csv)).toEqual(['a', 'b']);
  });
});

describe('delivery of an experiment cohort', () => {
  it('carries the treatment and holdout exports through to the run summary and the event', async () => {
    // Prepare: big_cohort (3 members) runs an experiment with half held out
    const lake = await givenLake();
    await writeDefinitions(lake.definitions, {
      'big_cohort.yaml': `${header('big_cohort')}rule:\n  event: login\nprogram:\n  experiment: nudge\n  holdout: 50%\n  salt: s\n`,
    });
    const world = await givenWorld(lake);
    // Act
    const { summary } = await runRefreshStateMachine(refreshStateMachineAsl, { as_of: FIRST, cohorts: ['big_cohort'] }, portsOf(world));
    // Assess
    const exports = summary.deliveries.find((d) => d.cohort === 'big_cohort')?.exports;
    const treatment = await csvIds(exports?.treatment_csv ?? '');
    const holdout = await csvIds(exports?.holdout_csv ?? '');
    expect([...treatment, ...holdout].sort()).toEqual(await world.store.members('big_cohort', 1));
    const event = (await eventsOf(world)).find((e) => e.detail.cohort === 'big_cohort' && e['detail-type'] === 'Cohort Refreshed');
    expect(event?.detail.locations.exports?.holdout_parquet).toBe(exports?.holdout_parquet);
  });
});
