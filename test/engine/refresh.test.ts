import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type ProjectConfig } from '../../shared/config/config.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import type { CohortOutcome } from '../../shared/engine/snapshot-cohort.ts';
import { runAlert } from '../../shared/workflow/run-alert.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import type { BlobStore } from '../../shared/ports.ts';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import type { CheckResult, Manifest } from '../../shared/store/manifest.ts';
import { SnapshotStore } from '../../shared/store/snapshot-store.ts';
import { runRefreshSteps } from '../../shared/workflow/run-steps.ts';
import { tempDir } from '../support/cli.ts';
import { localPortsOver } from '../support/local-run.ts';
import { WARN_ONLY_SOURCE_CHECKS } from '../support/config.ts';
import { type EventRow, header, login, writeDefinitions, writeLake } from '../support/lake.ts';

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

  /** A refresh through the steps that ship; its summary and the plan it carried out. */
  const run = (asOf: string, extra: { force?: boolean; cohorts?: string[]; blobs?: BlobStore; config?: ProjectConfig } = {}) =>
    runRefreshSteps(
      { as_of: asOf, ...(extra.force ? { force: true } : {}), ...(extra.cohorts ? { cohorts: extra.cohorts } : {}) },
      localPortsOver(
        extra.blobs ? { definitions, state, engine, blobs: extra.blobs } : { definitions, state, engine, store },
        extra.config ? { config: extra.config } : {},
      ),
    );

  beforeEach(async () => {
    const root = await tempDir();
    lake = join(root, 'lake');
    definitions = join(root, 'definitions');
    state = join(root, 'state');
    await writeLake(
      lake,
      [...EVENTS, { ...EVENTS[1]!, event_id: 'p1', user_id: 'ignored-duplicate' } as EventRow],
      [{ source: 'billing', user_id: 'cus_1', person_id: 'ann' }],
    );
    await writeDefinitions(definitions, DEFINITIONS);
    engine = new DuckDbEngine(await openDuckDb(), lake, 'duckdb test');
    store = new SnapshotStore(new FsBlobStore(state), engine);
  });

  it('writes version 1 of every cohort with its members in byte order and publishes it', async () => {
    const { summary } = await run('2024-06-01T00:00:00Z');
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
    const { summary, plan } = await run('2024-06-01T00:00:00Z');
    const manifest = (await store.manifest('active_payers', 1)) as Manifest;
    expect(manifest.lineage.query).toBe(plan.query);
    expect(manifest.lineage.run_id).toBe(summary.run_id);
    expect(manifest.lineage.depends_on).toEqual([
      { cohort: 'active_users', version: 1 },
      { cohort: 'payers', version: 1 },
    ]);
    const events = manifest.lineage.inputs.find((i) => i.table === 'events');
    // big_cohort reads all history, so every partition up to T + 1 day is an input.
    expect(events?.partitions).toEqual(['dt=2024-03-01', 'dt=2024-04-01', 'dt=2024-05-20', 'dt=2024-05-30', 'dt=2024-05-31']);
    expect(manifest.definition.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest).toMatchObject({
      cohort: 'active_payers',
      version: 1,
      as_of: '2024-06-01T00:00:00.000Z',
      status: 'published',
      previous_version: null,
      entered: 1,
      exited: 0,
    });
  });

  it('prunes partitions to the widest window when every leaf and metric has one', async () => {
    // GIVEN metrics over windows shorter than the cohort's 7 days
    const config = withMetrics('login', 2, 'invoice_paid', 3);
    await run('2024-06-01T00:00:00Z', { cohorts: ['active_users'], config });
    const manifest = (await store.manifest('active_users', 1)) as Manifest;
    expect(manifest.lineage.inputs.find((i) => i.table === 'events')?.partitions).toEqual(['dt=2024-05-30', 'dt=2024-05-31']);
    expect(manifest.lineage.query).toContain("dt >= '2024-05-24'");
  });

  it('widens the one scan to a metric window longer than every leaf, and reads the lake once', async () => {
    // GIVEN the value metric over 30 days and a cohort that looks back 7 days
    await run('2024-06-01T00:00:00Z', { cohorts: ['active_users'], config: withMetrics('login', 2, 'invoice_paid', 30) });
    const manifest = (await store.manifest('active_users', 1)) as Manifest;
    expect(manifest.lineage.inputs.find((i) => i.table === 'events')?.partitions).toEqual([
      'dt=2024-05-20',
      'dt=2024-05-30',
      'dt=2024-05-31',
    ]);
    expect(manifest.lineage.query).toContain("dt >= '2024-05-01'");
    // ann paid 50 on May 20 (through the identity map) and logged in on May 30; bob logged in on May 31.
    expect(manifest.kpis).toMatchObject({ size: 2, activation_count: 2, activation_share: 1, value_sum: 50, value_mean: 25 });
  });

  it('creates no new version for the same as-of and definition, unless forced', async () => {
    await run('2024-06-01T00:00:00Z');
    const { summary: again } = await run('2024-06-01T00:00:00Z');
    expect(again.cohorts.every((c) => c.status === 'unchanged')).toBe(true);
    expect(await store.versions('active_users')).toEqual([1]);
    const { summary: forced } = await run('2024-06-01T00:00:00Z', { force: true });
    expect(forced.cohorts.find((c) => c.cohort === 'active_users')?.version).toBe(2);
    expect(await store.versions('active_users')).toEqual([1, 2]);
  });

  it('counts who entered and exited against the previous published version', async () => {
    await run('2024-06-01T00:00:00Z');
    const { summary: later } = await run('2024-06-06T12:00:00Z');
    const active = later.cohorts.find((c) => c.cohort === 'active_users');
    // ann (May 30) drops out of the 7-day window; bob (May 31) stays.
    expect(active).toMatchObject({ version: 2, size: 1, previous_version: 1, entered: 0, exited: 1 });
  });

  it('holds a version whose check fails and leaves the previous version current', async () => {
    await run('2024-06-01T00:00:00Z');
    await writeDefinitions(definitions, { 'big_cohort.yaml': `${header('big_cohort')}rule:\n  event: login\nquality:\n  max_size: 1\n` });
    const { summary } = await run('2024-06-02T00:00:00Z', { cohorts: ['big_cohort'] });
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
      getWithEtag: (k) => fs.getWithEtag(k),
      putIfUnchanged: (k, b, e) => fs.putIfUnchanged(k, b, e),
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
    const { summary: next } = await run('2024-06-03T00:00:00Z', { cohorts: ['active_users'] });
    expect(next.cohorts[0]?.version).toBe(3);
    expect(JSON.parse(await readFile(join(state, 'snapshots', 'cohort=active_users', 'current.json'), 'utf8'))).toEqual({ version: 3 });
  });

  it('refreshes a selected cohort together with everything it depends on, and nothing else', async () => {
    const { summary } = await run('2024-06-01T00:00:00Z', { cohorts: ['active_payers'] });
    expect(summary.cohorts.map((c) => c.cohort)).toEqual(['active_users', 'payers', 'active_payers']);
  });
});

/** The warn-only config with the given activation and value metrics, each within N days. */
function withMetrics(activation: string, activationDays: number, value: string, valueDays: number): ProjectConfig {
  const filter = (event: string, days: number) => ({
    events: [event],
    where: [],
    window: { kind: 'within' as const, duration: { text: `${days}d`, ms: days * 86_400_000 } },
  });
  return { ...WARN_ONLY_SOURCE_CHECKS, metrics: { activation: filter(activation, activationDays), value: filter(value, valueDays) } };
}

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
    const state = join(root, 'state');
    const store = new SnapshotStore(new FsBlobStore(state), engine);

    // WHEN it refreshes with the default checks
    const { summary } = await runRefreshSteps(
      { as_of: '2024-06-01T00:00:00Z' },
      localPortsOver({ definitions, state, engine, store }, { config: DEFAULT_CONFIG }),
    );

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

describe('KPI checks in a refresh', () => {
  // GIVEN 40 people who log in before both as-of instants; 30 use a feature in the two weeks before
  // June 1, only 10 in the two weeks before June 15: the activation share falls from 75% to 25%.
  const people = Array.from({ length: 40 }, (_, i) => `u${String(i).padStart(2, '0')}`);
  const events: EventRow[] = [
    ...people.flatMap((p) => [login(`l1-${p}`, p, '2024-05-28T09:00:00Z'), login(`l2-${p}`, p, '2024-06-10T09:00:00Z')]),
    ...people
      .slice(0, 30)
      .map((p) => ({ event_id: `f1-${p}`, source: 'product', user_id: p, event_name: 'feature_used', ts: '2024-05-25T10:00:00Z' })),
    ...people
      .slice(0, 10)
      .map((p) => ({ event_id: `f2-${p}`, source: 'product', user_id: p, event_name: 'feature_used', ts: '2024-06-08T10:00:00Z' })),
    ...people.slice(0, 4).map((p) => ({
      event_id: `v1-${p}`,
      source: 'billing',
      user_id: p,
      event_name: 'invoice_paid',
      ts: '2024-05-10T00:00:00Z',
      value: 25.5,
    })),
  ];

  const refreshTwice = async (quality: string) => {
    const root = await tempDir();
    await writeLake(join(root, 'lake'), events);
    const definitions = join(root, 'definitions');
    await writeDefinitions(definitions, { 'logged_in.yaml': `${header('logged_in')}rule:\n  event: login\n  within: 30d\n${quality}` });
    const engine = new DuckDbEngine(await openDuckDb(), join(root, 'lake'));
    const state = join(root, 'state');
    const store = new SnapshotStore(new FsBlobStore(state), engine);
    const run = async (asOf: string) =>
      (await runRefreshSteps({ as_of: asOf }, localPortsOver({ definitions, state, engine, store }))).summary;
    await run('2024-06-01T00:00:00Z');
    const second = await run('2024-06-15T00:00:00Z');
    return { store, outcome: second.cohorts[0] };
  };

  it('record the KPIs of each version in its manifest, computed in the one query', async () => {
    const { store } = await refreshTwice('');
    const first = (await store.manifest('logged_in', 1)) as Manifest;
    expect(first.kpis).toMatchObject({
      size: 40,
      entered: 40,
      exited: 0,
      activation_count: 30,
      activation_share: 0.75,
      value_sum: 102,
      value_mean: 2.55,
    });
    expect(first.kpis?.metrics).toEqual(WARN_ONLY_SOURCE_CHECKS.metrics);
    const second = (await store.manifest('logged_in', 2)) as Manifest;
    // The invoices of May 10 are more than 30 days before June 15.
    expect(second.kpis).toMatchObject({
      size: 40,
      entered: 0,
      exited: 0,
      activation_count: 10,
      activation_share: 0.25,
      value_sum: 0,
      value_mean: 0,
    });
  });

  it('warn when the activation share falls by half and still publish the version', async () => {
    const { store, outcome } = await refreshTwice('');
    expect(outcome?.status).toBe('published');
    expect(outcome?.checks.find((c) => c.name === 'kpi.activation_change')).toMatchObject({
      status: 'warn',
      observed: -50,
      threshold: 10,
      message: 'activation share moved from 75% in v1 to 25% (-50 points); warns beyond 10 points',
    });
    expect(outcome?.checks.find((c) => c.name === 'kpi.value_sum_change')).toMatchObject({ status: 'warn', observed: -100 });
    expect(await store.current('logged_in')).toBe(2);
  });

  it('raise a warn alert that names the KPI shift with its numbers, like any other warning', async () => {
    const { outcome } = await refreshTwice('');
    const alert = runAlert({
      run_id: 'r2',
      as_of: '2024-06-15T00:00:00.000Z',
      trigger: 'manual',
      population: 40,
      started_at: '2024-06-15T00:00:00.000Z',
      finished_at: '2024-06-15T00:00:01.000Z',
      tiles: { mode: 'tiles', built_days: 0, rebuilt_days: 0, reused_days: 0, raw_measures: [] },
      duration_ms: 1000,
      cohorts: [outcome as CohortOutcome],
      deliveries: [],
    });
    expect(alert).toMatchObject({ severity: 'warn', cohorts: ['logged_in'], details: { warned: ['logged_in'] } });
    expect(alert?.body).toContain(
      'Warnings (published):\nlogged_in v2:\n  warn kpi.activation_change: activation share moved from 75% in v1 to 25% (-50 points); warns beyond 10 points\n' +
        '  warn kpi.value_sum_change: value sum moved from 102 in v1 to 0 (-100%); warns beyond 50%\n' +
        '  warn kpi.value_mean_change: value per member moved from 2.55 in v1 to 0 (-100%); warns beyond 50%',
    );
  });

  it('hold the version at a fail level set in quality.kpis, leaving the previous version current', async () => {
    const { store, outcome } = await refreshTwice('quality:\n  kpis:\n    activation_change: {warn: 10, fail: 40}\n');
    expect(outcome?.status).toBe('held');
    expect(outcome?.checks.find((c) => c.name === 'kpi.activation_change')).toMatchObject({ status: 'fail', observed: -50 });
    expect(await store.current('logged_in')).toBe(1);
    // The held version holds exactly the members its rule defines.
    expect(await store.members('logged_in', 2)).toEqual(people);
  });

  it('pass when the levels allow the move', async () => {
    const { outcome } = await refreshTwice('quality:\n  kpis:\n    activation_change: {warn: 60}\n    value_change: {warn: 100}\n');
    expect(outcome?.status).toBe('published');
    expect(outcome?.checks.filter((c) => c.name.startsWith('kpi.')).map((c) => [c.name, c.status])).toEqual([
      ['kpi.activation_change', 'pass'],
      ['kpi.value_sum_change', 'pass'],
      ['kpi.value_mean_change', 'pass'],
      ['kpi.activation_vs_history', 'pass'],
      ['kpi.value_sum_vs_history', 'pass'],
      ['kpi.value_mean_vs_history', 'pass'],
    ]);
  });
});

describe('cohort checks on a crafted lake', () => {
  // GIVEN 40 people who log in during the week before June 1, and `later` of them during the week before June 8
  const people = Array.from({ length: 40 }, (_, i) => `p${String(i).padStart(2, '0')}`);
  const refreshWeekly = async (later: number) => {
    const root = await tempDir();
    await writeLake(join(root, 'lake'), [
      ...people.map((p) => login(`a-${p}`, p, '2024-05-28T09:00:00Z')),
      ...people.slice(0, later).map((p) => login(`b-${p}`, p, '2024-06-04T09:00:00Z')),
    ]);
    const definitions = join(root, 'definitions');
    await writeDefinitions(definitions, {
      'weekly.yaml': `${header('weekly')}rule:\n  event: login\n  within: 7d\nquality:\n  max_change_pct: 30\n`,
    });
    const engine = new DuckDbEngine(await openDuckDb(), join(root, 'lake'));
    const state = join(root, 'state');
    const store = new SnapshotStore(new FsBlobStore(state), engine);
    const run = async (asOf: string) =>
      (await runRefreshSteps({ as_of: asOf }, localPortsOver({ definitions, state, engine, store }))).summary;
    await run('2024-06-01T00:00:00Z');
    const second = await run('2024-06-08T00:00:00Z');
    const check = (name: string) => second.cohorts[0]?.checks.find((c) => c.name === name);
    return { store, outcome: second.cohorts[0], check };
  };

  it('hold a cohort that halves, warn on its churn, and leave the previous version current', async () => {
    const { store, outcome, check } = await refreshWeekly(18);
    expect(outcome).toMatchObject({ status: 'held', size: 18, entered: 0, exited: 22 });
    expect(check('max_change_pct')).toMatchObject({ status: 'fail', observed: 55, threshold: 30 });
    expect(check('churn')).toMatchObject({ status: 'warn', observed: 55, threshold: 50 });
    expect(await store.current('weekly')).toBe(1);
    expect(await store.members('weekly', 1)).toEqual(people);
    expect(await store.members('weekly', 2)).toEqual(people.slice(0, 18));
  });

  it('pass churn that is usual for the cohort: one that turns over every week warns once, then its history shows it', async () => {
    // GIVEN two groups of 40 taking turns, week after week: each version is all new (200% churn)
    const groupB = people.map((p) => `q${p.slice(1)}`);
    const weeks = Array.from({ length: 8 }, (_, i) => new Date(Date.parse('2024-05-28T09:00:00Z') + i * 7 * 86_400_000).toISOString());
    const root = await tempDir();
    await writeLake(
      join(root, 'lake'),
      weeks.flatMap((ts, i) => (i % 2 === 0 ? people : groupB).map((p) => login(`${i}-${p}`, p, ts))),
    );
    const definitions = join(root, 'definitions');
    await writeDefinitions(definitions, { 'weekly.yaml': `${header('weekly')}rule:\n  event: login\n  within: 7d\n` });
    const engine = new DuckDbEngine(await openDuckDb(), join(root, 'lake'));
    const state = join(root, 'state');
    const store = new SnapshotStore(new FsBlobStore(state), engine);
    const churns: (CheckResult | undefined)[] = [];
    for (const ts of weeks) {
      const asOf = new Date(Date.parse(ts) + 3 * 86_400_000).toISOString();
      const { summary } = await runRefreshSteps({ as_of: asOf }, localPortsOver({ definitions, state, engine, store }));
      churns.push(summary.cohorts[0]?.checks.find((c) => c.name === 'churn'));
    }
    // THEN the first version has no churn; the first of 200% warns, the next four repeat it (its churn history is not
    // five versions long yet), then the sixth and seventh are this cohort's usual
    expect(churns.map((c) => c?.status)).toEqual([undefined, 'warn', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass']);
    expect(churns[2]?.message).toContain('as in every version since version 2, which warned of it');
    expect(churns[6]?.message).toContain("this cohort's median churn is 200%");
  });

  it('publish a cohort that moves a little, every check passing', async () => {
    const { store, outcome, check } = await refreshWeekly(38);
    expect(outcome?.status).toBe('published');
    expect(check('max_change_pct')).toMatchObject({ status: 'pass', observed: 5 });
    expect(check('churn')).toMatchObject({ status: 'pass', observed: 5 });
    // The crafted lake ends days before the as-of: its source checks and staleness warn, the rest pass.
    expect(outcome?.checks.filter((c) => !c.name.includes('[') && c.name !== 'staleness' && c.status !== 'pass')).toEqual([]);
    expect(check('staleness')).toMatchObject({ status: 'warn', observed: 87, threshold: 26 });
    expect(await store.current('weekly')).toBe(2);
  });
});
