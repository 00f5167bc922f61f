import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { openDuckDb } from '../../shared/duckdb/open.ts';
import { refresh } from '../../shared/engine/refresh.ts';
import { loadCatalog } from '../../shared/language/catalog.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import type { BlobStore } from '../../shared/ports.ts';
import { FsBlobStore } from '../../shared/store/fs-blob-store.ts';
import type { Manifest } from '../../shared/store/manifest.ts';
import { SnapshotStore } from '../../shared/store/snapshot-store.ts';
import { tempDir } from '../support/cli.ts';
import { WARN_ONLY_SOURCE_CHECKS } from '../support/config.ts';
import { type EventRow, header, writeDefinitions, writeLake } from '../support/lake.ts';

const login = (id: string, user: string, ts: string): EventRow => ({ event_id: id, source: 'product', user_id: user, event_name: 'login', ts });

const EVENTS: EventRow[] = [
  login('e1', 'ann', '2024-05-30T10:00:00Z'),
  login('e2', 'bob', '2024-05-31T10:00:00Z'),
  login('e3', 'bob', '2024-04-01T10:00:00Z'),
  login('e4', 'cid', '2024-03-01T10:00:00Z'),
  { event_id: 'p1', source: 'billing', user_id: 'cus_1', event_name: 'invoice_paid', ts: '2024-05-20T00:00:00Z', value: 50 },
];

const DEFINITIONS = {
  'active_users.yaml': `${header('active_users')}rule:\n  event: login\n  within: 7d\n`,
  'payers.yaml': `${header('payers')}rule:\n  event: invoice_paid\n  within: 30d\n`,
  'active_payers.yaml': `${header('active_payers')}rule:\n  all:\n    - cohort: active_users\n    - cohort: payers\n`,
  'big_cohort.yaml': `${header('big_cohort')}rule:\n  event: login\nquality:\n  min_size: 3\n`,
};

describe('a refresh', () => {
  let lake: string;
  let definitions: string;
  let state: string;
  let engine: DuckDbEngine;
  let store: SnapshotStore;

  const run = async (asOf: string, extra: { force?: boolean; cohorts?: string[]; blobs?: BlobStore } = {}) => {
    const catalog = await loadCatalog(definitions);
    const snapshotStore = extra.blobs ? new SnapshotStore(extra.blobs, engine) : store;
    return refresh(
      { catalog: catalog.definitions, asOf: new Date(asOf), trigger: 'manual', ...(extra.force ? { force: true } : {}), ...(extra.cohorts ? { cohorts: extra.cohorts } : {}) },
      { engine, store: snapshotStore, config: WARN_ONLY_SOURCE_CHECKS },
    );
  };

  beforeEach(async () => {
    const root = await tempDir();
    lake = join(root, 'lake');
    definitions = join(root, 'definitions');
    state = join(root, 'state');
    await writeLake(lake, [...EVENTS, { ...EVENTS[1]!, event_id: 'p1', user_id: 'ignored-duplicate' } as EventRow], [
      { source: 'billing', user_id: 'cus_1', person_id: 'ann' },
    ]);
    await writeDefinitions(definitions, DEFINITIONS);
    engine = new DuckDbEngine(await openDuckDb(), lake, 'duckdb test');
    store = new SnapshotStore(new FsBlobStore(state), engine);
  });

  it('writes version 1 of every cohort with its members in byte order and publishes it', async () => {
    const summary = await run('2024-06-01T00:00:00Z');
    expect(summary.cohorts.map((c) => [c.cohort, c.status, c.version, c.size])).toEqual([
      ['active_users', 'published', 1, 2],
      ['payers', 'published', 1, 1],
      ['active_payers', 'published', 1, 1],
      ['big_cohort', 'published', 1, 3],
    ]);
    expect(await store.members('active_users', 1)).toEqual(['ann', 'bob']);
    expect(await store.current('active_payers')).toBe(1);
  });

  it('records lineage: the exact query, the partitions read, upstream versions and the run id', async () => {
    const summary = await run('2024-06-01T00:00:00Z');
    const manifest = (await store.manifest('active_payers', 1)) as Manifest;
    expect(manifest.lineage.query).toBe(summary.query);
    expect(manifest.lineage.run_id).toBe(summary.runId);
    expect(manifest.lineage.depends_on).toEqual([
      { cohort: 'active_users', version: 1 },
      { cohort: 'payers', version: 1 },
    ]);
    const events = manifest.lineage.inputs.find((i) => i.table === 'events');
    // big_cohort reads all history, so every partition up to T + 1 day is an input.
    expect(events?.partitions).toEqual(['dt=2024-03-01', 'dt=2024-04-01', 'dt=2024-05-20', 'dt=2024-05-30', 'dt=2024-05-31']);
    expect(manifest.definition.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest).toMatchObject({ cohort: 'active_payers', version: 1, as_of: '2024-06-01T00:00:00.000Z', status: 'published', previous_version: null, entered: 1, exited: 0 });
  });

  it('prunes partitions to the widest window when every leaf has one', async () => {
    await run('2024-06-01T00:00:00Z', { cohorts: ['active_users'] });
    const manifest = (await store.manifest('active_users', 1)) as Manifest;
    expect(manifest.lineage.inputs.find((i) => i.table === 'events')?.partitions).toEqual(['dt=2024-05-30', 'dt=2024-05-31']);
    expect(manifest.lineage.query).toContain("dt >= '2024-05-24'");
  });

  it('creates no new version for the same as-of and definition, unless forced', async () => {
    await run('2024-06-01T00:00:00Z');
    const again = await run('2024-06-01T00:00:00Z');
    expect(again.cohorts.every((c) => c.status === 'unchanged')).toBe(true);
    expect(await store.versions('active_users')).toEqual([1]);
    const forced = await run('2024-06-01T00:00:00Z', { force: true });
    expect(forced.cohorts.find((c) => c.cohort === 'active_users')?.version).toBe(2);
    expect(await store.versions('active_users')).toEqual([1, 2]);
  });

  it('counts who entered and exited against the previous published version', async () => {
    await run('2024-06-01T00:00:00Z');
    const later = await run('2024-06-06T12:00:00Z');
    const active = later.cohorts.find((c) => c.cohort === 'active_users');
    // ann (May 30) drops out of the 7-day window; bob (May 31) stays.
    expect(active).toMatchObject({ version: 2, size: 1, previous_version: 1, entered: 0, exited: 1 });
  });

  it('holds a version whose check fails and leaves the previous version current', async () => {
    await run('2024-06-01T00:00:00Z');
    await writeDefinitions(definitions, { 'big_cohort.yaml': `${header('big_cohort')}rule:\n  event: login\nquality:\n  max_size: 1\n` });
    const summary = await run('2024-06-02T00:00:00Z', { cohorts: ['big_cohort'] });
    const outcome = summary.cohorts.find((c) => c.cohort === 'big_cohort');
    expect(outcome?.status).toBe('held');
    expect(await store.current('big_cohort')).toBe(1);
    const held = (await store.manifest('big_cohort', 2)) as Manifest;
    expect(held.status).toBe('held');
    expect(held.checks.find((c) => c.name === 'max_size')).toMatchObject({ status: 'fail', observed: 3, threshold: 1 });
    // A held version holds exactly the members the rule defines.
    expect(await store.members('big_cohort', 2)).toEqual(['ann', 'bob', 'cid']);
  });

  it('never moves current when writing a version fails half-way, and does not reuse its number', async () => {
    await run('2024-06-01T00:00:00Z');
    const fs = new FsBlobStore(state);
    const failing: BlobStore = {
      get: (k) => fs.get(k),
      put: (k, b) => fs.put(k, b),
      list: (p) => fs.list(p),
      locate: (k) => fs.locate(k),
      create: async (k, b) => {
        if (k.endsWith('manifest.json')) throw new Error('disk full');
        return fs.create(k, b);
      },
    };
    await expect(run('2024-06-03T00:00:00Z', { cohorts: ['active_users'], blobs: failing })).rejects.toThrow('disk full');
    expect(await store.current('active_users')).toBe(1);
    expect(await store.versions('active_users')).toEqual([1]);
    const next = await run('2024-06-03T00:00:00Z', { cohorts: ['active_users'] });
    expect(next.cohorts[0]?.version).toBe(3);
    expect(JSON.parse(await readFile(join(state, 'snapshots', 'cohort=active_users', 'current.json'), 'utf8'))).toEqual({ version: 3 });
  });

  it('refreshes a selected cohort together with everything it depends on, and nothing else', async () => {
    const summary = await run('2024-06-01T00:00:00Z', { cohorts: ['active_payers'] });
    expect(summary.cohorts.map((c) => c.cohort)).toEqual(['active_users', 'payers', 'active_payers']);
  });
});

describe('source checks in a refresh', () => {
  it('hold the cohorts that read a failing source and publish the others, recording the checks in each manifest', async () => {
    // GIVEN a fresh product source and a billing source silent for twelve days (SLA 26 hours)
    const root = await tempDir();
    const lake = join(root, 'lake');
    await writeLake(lake, [login('e1', 'ann', '2024-05-31T20:00:00Z'), { ...EVENTS[4]! }]);
    const definitions = join(root, 'definitions');
    await writeDefinitions(definitions, {
      'product_logins.yaml': `${header('product_logins')}rule:\n  event: login\n  source: product\n`,
      'billing_payers.yaml': `${header('billing_payers')}rule:\n  event: invoice_paid\n  source: billing\n`,
    });
    const engine = new DuckDbEngine(await openDuckDb(), lake);
    const store = new SnapshotStore(new FsBlobStore(join(root, 'state')), engine);

    // WHEN it refreshes with the default checks
    const catalog = await loadCatalog(definitions);
    const summary = await refresh({ catalog: catalog.definitions, asOf: new Date('2024-06-01T00:00:00Z'), trigger: 'manual' }, { engine, store });

    // THEN only the billing cohort is held, and each manifest holds the checks of its own source
    expect(summary.cohorts.map((c) => [c.cohort, c.status])).toEqual([
      ['billing_payers', 'held'],
      ['product_logins', 'published'],
    ]);
    const held = (await store.manifest('billing_payers', 1)) as Manifest;
    expect(held.checks.find((c) => c.name === 'source.freshness[billing]')).toMatchObject({ status: 'fail' });
    expect(held.checks.some((c) => c.name.endsWith('[product]'))).toBe(false);
    const published = (await store.manifest('product_logins', 1)) as Manifest;
    expect(published.checks.find((c) => c.name === 'source.freshness[product]')).toMatchObject({ status: 'pass' });
    expect(await store.current('billing_payers')).toBeUndefined();
  });
});
