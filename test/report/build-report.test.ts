import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../shared/config/config.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import type { CohortDefinition } from '../../shared/language/ast.ts';
import { loadCatalog } from '../../shared/language/catalog.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { buildReport } from '../../shared/report/build-report.ts';
import { driftFlags } from '../../shared/report/drift.ts';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import type { Manifest } from '../../shared/store/manifest.ts';
import { SnapshotStore } from '../../shared/store/snapshot-store.ts';
import { runRefreshSteps } from '../../shared/workflow/run-steps.ts';
import { tempDir } from '../support/cli.ts';
import { localPortsOver } from '../support/local-run.ts';
import { header, login, writeDefinitions, writeLake } from '../support/lake.ts';
import type { CatalogStore } from '../../shared/governance/catalog-store.ts';
import { fixtureCatalog, fixtureStore, HOSTILE_NAME, HOSTILE_NOTE } from './fixture.ts';
import { element, embeddedJson, fieldText, textOf } from './html-text.ts';
import { writeReport } from '../../shared/local/report-files.ts';

const GENERATED_AT = new Date('2024-06-02T08:00:00Z');

describe('the report built from crafted manifests', () => {
  let catalog: readonly CohortDefinition[];
  let store: SnapshotStore;
  let governance: CatalogStore;
  let index: string;
  let catalogHtml: string;

  beforeAll(async () => {
    catalog = fixtureCatalog();
    ({ store, governance } = await fixtureStore(catalog));
    const report = await buildReport({ catalog, store, generatedAt: GENERATED_AT, governance });
    expect(Object.keys(report.files).sort()).toEqual(['catalog.html', 'index.html']);
    index = report.files['index.html'] as string;
    catalogHtml = report.files['catalog.html'] as string;
  });

  const summaryRow = (id: string) => element(element(index, 'table', 'id', 'summary'), 'tr', 'data-cohort', id);
  const section = (id: string) => element(index, 'section', 'id', `cohort-${id}`);
  const entry = (id: string) => element(catalogHtml, 'article', 'data-cohort', id);

  it('summarises every cohort with the numbers of its latest manifest', async () => {
    for (const definition of catalog) {
      // Prepare
      const latest = (await store.manifests(definition.id)).at(-1);
      const current = await store.current(definition.id);
      // Act
      const row = summaryRow(definition.id);
      // Assess
      if (!latest) {
        expect(textOf(row)).toContain('never refreshed');
        continue;
      }
      expect(Number(fieldText(row, 'size').replace(/,/g, '')), definition.id).toBe(latest.size);
      expect(Number(fieldText(row, 'entered').replace(/\D/g, '')), definition.id).toBe(latest.entered);
      expect(Number(fieldText(row, 'exited').replace(/\D/g, '')), definition.id).toBe(latest.exited);
      expect(fieldText(row, 'status')).toBe(latest.status);
      expect(fieldText(row, 'latest')).toBe(`v${latest.version}`);
      expect(fieldText(row, 'current')).toBe(`v${current}`);
    }
  });

  it('formats numbers with thousands separators and names failing and warning checks', () => {
    const power = summaryRow('power_users');
    expect(fieldText(power, 'size')).toBe('2,500');
    expect(fieldText(power, 'entered')).toBe('+1,400');
    expect(fieldText(power, 'exited')).toBe('\u2212134');
    expect(fieldText(power, 'failing')).toBe('max_change_pct');
    expect(textOf(power)).toContain('+102.6% vs v2');
    const payers = summaryRow('engaged_payers');
    expect(fieldText(payers, 'size')).toBe('12,000');
    expect(fieldText(payers, 'warning')).toBe('source_freshness');
  });

  it('counts held, warned, drifting and never refreshed cohorts above the table', () => {
    const tile = (key: string) => textOf(element(index, 'li', 'data-tile', key));
    expect(tile('cohorts')).toBe('5Cohorts');
    expect(tile('held')).toBe('1Latest version held');
    expect(tile('warned')).toBe('1With warnings');
    expect(tile('drift')).toBe('2Latest moved over 20%');
    expect(tile('never')).toBe('1Never refreshed');
  });

  it('lists every version of a cohort with as_of, status, size, entered, exited, trigger and definition version', () => {
    const versions = element(section('power_users'), 'table', 'class', 'versions');
    const rows = [...versions.matchAll(/<tr data-version="(\d+)">([\s\S]*?)<\/tr>/g)];
    expect(rows.map((r) => r[1])).toEqual(['3', '2', '1']);
    const newest = textOf(rows[0]?.[2] ?? '');
    expect(newest).toMatch(/^v3 2024-06-01 00:00 UTC held 2,500 \+1,400 \u2212134 schedule:weekly d2 [0-9a-f]{12}$/);
    expect(textOf(rows[1]?.[2] ?? '')).toContain('v2 current 2024-05-01 00:00 UTC published 1,234 +300 \u221266 manual');
  });

  it('lists the KPIs of every version side by side, with a dash where a version has none', () => {
    const table = element(section('power_users'), 'table', 'class', 'kpis');
    const rows = [...table.matchAll(/<tr data-version="(\d+)">([\s\S]*?)<\/tr>/g)].map((r) => textOf(r[2] ?? ''));
    expect(rows).toEqual([
      'v3 2,500 +1,400 \u2212134 1,000 40.0% 80,000 32',
      'v2 1,234 +300 \u221266 700 56.7% 61,700 50',
      'v1 1,000 +1,000 0 612 61.2% 48,250.5 48.25',
    ]);
    const payers = element(section('engaged_payers'), 'table', 'class', 'kpis');
    expect(textOf(element(payers, 'tr', 'data-version', '1'))).toBe('v1 12,345 +12,345 0 \u2014 \u2014 \u2014 \u2014');
    expect(textOf(element(payers, 'tr', 'data-version', '2'))).toBe('v2 12,000 +55 \u2212400 9,876 82.3% 1,234,567.89 102.88');
    // An empty version has no share and no mean.
    expect(textOf(element(element(section('trial_users'), 'table', 'class', 'kpis'), 'tr', 'data-version', '1'))).toBe(
      'v1 0 0 0 0 \u2014 0 \u2014',
    );
    expect(textOf(element(section('power_users'), 'p', 'data-field', 'metrics'))).toBe(
      'Activation: members with at least one event {event: feature_used, source: product, within: 14d}. Value: the value of events {event: invoice_paid, source: billing, within: 30d}, added up per member. Set in metrics: of cohorts.config.yaml.',
    );
  });

  it('shows the latest activation share and value per member in the summary, and a KPI chart where versions have KPIs', () => {
    expect(fieldText(summaryRow('power_users'), 'activation')).toBe('40.0%');
    expect(fieldText(summaryRow('power_users'), 'value-mean')).toBe('32');
    expect(fieldText(summaryRow('old_segment'), 'activation')).toBe('\u2014');
    expect(section('power_users')).toContain('<canvas id="kpi-chart-power_users"');
    expect(section('old_segment')).not.toContain('kpi-chart-');
    const data = embeddedJson(index, 'report-data') as {
      cohorts: { id: string; has_kpis: boolean; versions: { activation_share: number | null; value_mean: number | null }[] }[];
    };
    const power = data.cohorts.find((c) => c.id === 'power_users');
    expect(power?.has_kpis).toBe(true);
    expect(power?.versions.map((v) => [v.activation_share, v.value_mean])).toEqual([
      [0.612, 48.2505],
      [0.567261, 50],
      [0.4, 32],
    ]);
  });

  it("shows the latest version's checks with status, observed value, threshold and message", () => {
    const check = element(section('power_users'), 'tr', 'data-check', 'max_change_pct');
    expect(textOf(check)).toBe('max_change_pct fail 102.6 50 size moved from 1234 to 2500 (102.6%); at most 50% allowed');
  });

  it('flags versions that moved more than 20% and held versions, and only those', () => {
    const flags = (id: string) =>
      [...section(id).matchAll(/<li data-version="(\d+)" data-flag="([a-z-]+)">/g)].map((m) => `v${m[1]} ${m[2]}`);
    expect(flags('power_users')).toEqual(['v3 held', 'v3 size-change', 'v2 size-change']);
    expect(flags('trial_users')).toEqual(['v2 size-change']);
    expect(flags('engaged_payers')).toEqual([]);
    expect(textOf(section('power_users'))).toContain('size 1,000 \u2192 1,234 (+23.4%) against v1');
  });

  it("shows the definition's owner, purpose, tier, cadence, limitations, program and rule", () => {
    const power = section('power_users');
    expect(fieldText(power, 'owner')).toBe('growth-analytics');
    expect(fieldText(power, 'tier')).toBe('core');
    expect(fieldText(power, 'cadence')).toBe('weekly');
    expect(fieldText(power, 'limitations')).toBe('Misses exports made through the API.');
    expect(fieldText(power, 'hypothesis')).toBe('Offering the team plan to power users lifts upgrades.');
    expect(fieldText(power, 'experiment')).toBe('team-plan-offer');
    expect(fieldText(power, 'outcome-metric')).toBe('upgrade_rate_30d');
    expect(fieldText(power, 'quality')).toBe(
      'at least 500 members; size change at most 50% per version; KPI shift levels: activation_change warn 5 / fail 20, min_size 100',
    );
    expect(textOf(element(power, 'pre', 'class', 'rule'))).toBe(
      'all: - event: feature_used source: product where: plan: {in: [pro, team]} within: 30d count: {gte: 40} - not: {cohort: trial_users}',
    );
  });

  it('shows the changes waiting and refused above the cohorts, the removed cohort unlinked, and each in its cohort section', async () => {
    // Prepare
    const pending = await governance.records('power_users');
    const refused = await governance.records('legacy_core');
    const panel = element(index, 'section', 'id', 'definition-changes');
    // Act
    const waiting = element(panel, 'div', 'data-panel', 'pending');
    const refusedPanel = element(panel, 'div', 'data-panel', 'refused');
    // Assess
    expect([...waiting.matchAll(/data-open-change="([^"]+)"/g)].map((m) => m[1])).toEqual(['power_users']);
    expect([...refusedPanel.matchAll(/data-open-change="([^"]+)"/g)].map((m) => m[1])).toEqual(['legacy_core']);
    expect(fieldText(waiting, 'reasons')).toBe(pending[0]?.reasons.join(' '));
    expect(fieldText(refusedPanel, 'reasons')).toBe(refused[0]?.reasons.join(' '));
    expect(waiting).toContain('href="#cohort-power_users"');
    expect(refusedPanel).not.toContain('href="#cohort-legacy_core"');
    expect(fieldText(refusedPanel, 'definition')).toBe('file removed');
    expect(textOf(element(index, 'li', 'data-tile', 'pending'))).toBe('1Waiting for approval');
    expect(section('power_users')).toContain('data-open-change="power_users"');
    expect(fieldText(section('power_users'), 'working-note')).toBe('The working definition, waiting for approval; refreshes use d2.');
    expect(element(section('power_users'), 'figure', 'data-rule-diff', 'working')).toContain(
      '<span class="diff-del">-     count: {gte: 35}</span><span class="diff-add">+     count: {gte: 40}</span>',
    );
    expect(section('trial_users')).not.toContain('data-open-change');
  });

  it("lists a cohort's definition versions with the membership versions each made, and the rule diff between them", () => {
    const power = section('power_users');
    expect([...power.matchAll(/data-definition-version="(\d+)" data-memberships="([^"]*)"/g)].map((m) => [m[1], m[2]])).toEqual([
      ['2', '2 3'],
      ['1', '1'],
    ]);
    const d2 = element(power, 'tr', 'data-definition-version', '2');
    expect(fieldText(d2, 'change')).toBe('changed rule, change_reason');
    expect(fieldText(d2, 'change-reason')).toBe('Thirty uses let trial teams in.');
    expect(fieldText(d2, 'approval')).toBe(`approved by lee 2024-04-20 08:00 UTC ${HOSTILE_NOTE}`);
    expect(fieldText(d2, 'memberships')).toMatch(/^v2\u2013v3 [0-9a-f]{12}$/);
    expect(textOf(element(power, 'figure', 'data-rule-diff', '2'))).toContain('Rule of d1 \u2192 d2');
    expect(element(power, 'figure', 'data-rule-diff', '2')).toContain(
      '<span class="diff-del">-     count: {gte: 30}</span><span class="diff-add">+     count: {gte: 35}</span>',
    );
    expect(section('accelerating')).toContain('data-definition-version="1" data-memberships=""');
  });

  it('escapes user text everywhere and keeps it intact in the embedded data', () => {
    expect(index.includes('Checked &lt;em&gt;every&lt;/em&gt; new member &amp; the offer.')).toBe(true);
    expect(index.includes('<em>every')).toBe(false);
    for (const page of [index, catalogHtml]) {
      expect(page.includes('<script>alert')).toBe(false);
      expect(page.includes('(</script>')).toBe(false);
      expect(page.includes('Heavy users &lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; friends')).toBe(true);
    }
    // The data block, Chart.js and the chart script: no user text opened another element.
    expect(index.match(/<script\b[^>]*>/g)).toEqual(['<script type="application/json" id="report-data">', '<script>', '<script>']);
    expect(catalogHtml.match(/<script\b[^>]*>/g) ?? []).toEqual([]);
    const data = embeddedJson(index, 'report-data') as { cohorts: { id: string; name: string; versions: { size: number }[] }[] };
    expect(data.cohorts.find((c) => c.id === 'trial_users')?.name).toBe(HOSTILE_NAME);
    expect(data.cohorts.find((c) => c.id === 'power_users')?.versions.map((v) => v.size)).toEqual([1000, 1234, 2500]);
  });

  it('needs no network: no http(s) URL outside the Chart.js licence banner, no src, local links only', () => {
    for (const page of [index, catalogHtml]) {
      // Matches, not whole pages, go into expect(): a failure should not print 240 KB of HTML.
      const withoutLicences = page.replace(/\/\*![\s\S]*?\*\//g, '');
      expect(withoutLicences.match(/.{0,40}https?:\/\/.{0,40}/gi) ?? []).toEqual([]);
      expect(page.match(/<[^>]*\ssrc\s*=[^>]*>/gi) ?? []).toEqual([]);
      const styles = [...page.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1] ?? '').join('');
      expect(styles.match(/url\(|@import/gi) ?? []).toEqual([]);
      const links = [...page.matchAll(/href="([^"]*)"/g)].map((m) => m[1] ?? '');
      expect(links.filter((href) => !/^(#|index\.html|catalog\.html)/.test(href))).toEqual([]);
      expect(page.includes('content="default-src &#39;none&#39;;')).toBe(true);
    }
  });

  it('documents every cohort in catalog.html with sources, cadence, limitations, owner, tier, dependencies and dependants', () => {
    for (const definition of catalog) expect(entry(definition.id)).toContain(`id="entry-${definition.id}"`);
    const power = entry('power_users');
    expect(fieldText(power, 'purpose')).toContain('Heavy users <script>alert("pwned")</script> & friends');
    expect(fieldText(power, 'cadence')).toBe('weekly');
    expect(fieldText(power, 'owner')).toBe('growth-analytics');
    expect(fieldText(power, 'tier')).toBe('core');
    expect(fieldText(power, 'limitations')).toBe('Misses exports made through the API.');
    expect(fieldText(power, 'dependencies')).toBe(`${HOSTILE_NAME} trial_users`);
    expect(fieldText(power, 'dependants')).toBe('Engaged payers engaged_payers');
    expect(textOf(element(power, 'dd', 'data-field', 'sources'))).toContain('events: feature_used; sources: product');
    const trials = element(entry('trial_users'), 'dd', 'data-field', 'dependants');
    expect(textOf(trials)).toBe('Power users power_users Indirectly also: engaged_payers');
    expect(textOf(element(entry('trial_users'), 'dd', 'data-field', 'sources'))).toBe(
      'events: all events (conditions name subscription_changed); sources: all sources (conditions name billing)',
    );
    expect(textOf(element(entry('engaged_payers'), 'dd', 'data-field', 'sources'))).toContain(
      'through its dependencies, events: all events',
    );
  });

  it('marks deprecated cohorts with their reason and replacement', () => {
    const old = entry('old_segment');
    expect(old.startsWith('<article class="entry retired"')).toBe(true);
    expect(textOf(old)).toContain('Old segment deprecated');
    expect(fieldText(old, 'deprecated')).toBe('Counted refunds as payments. Replaced by engaged_payers.');
    expect(textOf(summaryRow('old_segment'))).toContain('deprecated');
  });

  it('writes the files into a folder and refuses names outside it', async () => {
    const out = await tempDir('cohorts-report-out-');
    const written = await writeReport(join(out, 'report'), { 'index.html': index, 'catalog.html': catalogHtml });
    expect(written).toEqual([join(out, 'report', 'index.html'), join(out, 'report', 'catalog.html')]);
    expect(await readFile(join(out, 'report', 'index.html'), 'utf8')).toBe(index);
    await expect(writeReport(out, { '../escape.html': 'x' })).rejects.toThrow('escapes the output folder');
  });
});

describe('drift flags', () => {
  const version = (v: number, size: number, previous: number | null, status: Manifest['status'] = 'published'): Manifest =>
    ({
      cohort: 'c',
      version: v,
      as_of: `2024-06-0${v}T00:00:00.000Z`,
      size,
      previous_version: previous,
      status,
      checks: [],
    }) as unknown as Manifest;

  it('compares with the previous published version, so the recovery after a held outlier is not flagged', () => {
    // Prepare: v2 is an outlier that was held; v3 is compared with v1 like its entered/exited counts.
    const manifests = [version(1, 100, null), version(2, 300, 1, 'held'), version(3, 110, 1)];
    // Act
    const flags = driftFlags(manifests);
    // Assess
    expect(flags.map((f) => `v${f.version} ${f.kind}`)).toEqual(['v2 size-change', 'v2 held']);
  });

  it('does not flag a change of exactly 20%, but flags one just above it', () => {
    expect(driftFlags([version(1, 100, null), version(2, 120, 1)])).toEqual([]);
    expect(driftFlags([version(1, 100, null), version(2, 79, 1)]).map((f) => f.kind)).toEqual(['size-change']);
  });
});

describe('the report after real refreshes at two as-of times', () => {
  it('shows the sizes and changes the refreshes recorded', async () => {
    // Prepare
    const root = await tempDir('cohorts-report-real-');
    await writeLake(join(root, 'lake'), [
      login('1', 'ann', '2024-05-30T10:00:00Z'),
      login('2', 'bob', '2024-05-31T10:00:00Z'),
      login('3', 'cid', '2024-06-05T10:00:00Z'),
      login('4', 'dan', '2024-06-06T10:00:00Z'),
      login('5', 'eve', '2024-06-07T10:00:00Z'),
    ]);
    await writeDefinitions(join(root, 'definitions'), {
      'active_users.yaml': `${header('active_users')}rule:\n  event: login\n  within: 7d\n`,
      'quiet_users.yaml': `${header('quiet_users')}rule:\n  not: {cohort: active_users}\n`,
    });
    const { definitions } = await loadCatalog(join(root, 'definitions'));
    const engine = new DuckDbEngine(await openDuckDb(), join(root, 'lake'), 'duckdb test');
    const state = join(root, 'state');
    const store = new SnapshotStore(new FsBlobStore(state), engine);
    const ports = localPortsOver({ definitions: join(root, 'definitions'), state, engine, store }, { config: DEFAULT_CONFIG });
    for (const asOf of ['2024-06-01T00:00:00Z', '2024-06-08T00:00:00Z']) {
      await runRefreshSteps({ as_of: asOf, trigger: 'schedule:daily' }, ports);
    }
    // Act
    const { files } = await buildReport({ catalog: definitions, store, generatedAt: GENERATED_AT });
    // Assess
    const index = files['index.html'] as string;
    const active = await store.manifests('active_users');
    expect(active.map((m) => [m.size, m.entered, m.exited])).toEqual([
      [2, 2, 0],
      [3, 3, 2],
    ]);
    const row = element(index, 'tr', 'data-cohort', 'active_users');
    expect(fieldText(row, 'size')).toBe('3');
    expect(fieldText(row, 'entered')).toBe('+3');
    expect(fieldText(row, 'exited')).toBe('\u22122');
    expect(textOf(row)).toContain('+50.0% vs v1 drift');
    const quiet = element(index, 'tr', 'data-cohort', 'quiet_users');
    const quietLatest = (await store.manifests('quiet_users')).at(-1);
    expect(fieldText(quiet, 'size')).toBe(String(quietLatest?.size));
    const data = embeddedJson(index, 'report-data') as { cohorts: { id: string; versions: { size: number; as_of: string }[] }[] };
    // Nobody used a feature or paid: the default metrics are 0 for every member.
    expect(data.cohorts.find((c) => c.id === 'active_users')?.versions).toEqual([
      { version: 1, as_of: '2024-06-01T00:00:00.000Z', status: 'published', size: 2, activation_share: 0, value_mean: 0 },
      { version: 2, as_of: '2024-06-08T00:00:00.000Z', status: 'published', size: 3, activation_share: 0, value_mean: 0 },
    ]);
    expect(fieldText(row, 'activation')).toBe('0.0%');
    expect(fieldText(element(files['catalog.html'] as string, 'article', 'data-cohort', 'active_users'), 'dependants')).toBe(
      'quiet_users quiet_users',
    );
  });
});
