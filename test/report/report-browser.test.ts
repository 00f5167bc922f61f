import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogStore } from '../../shared/governance/catalog-store.ts';
import type { CohortDefinition } from '../../shared/language/ast.ts';
import { buildReport } from '../../shared/report/build-report.ts';
import type { Manifest } from '../../shared/store/manifest.ts';
import type { SnapshotStore } from '../../shared/store/snapshot-store.ts';
import { launchChromium } from '../support/browser.ts';
import { tempDir } from '../support/cli.ts';
import { fixtureCatalog, fixtureStore } from './fixture.ts';
import { toPalettePng } from './png-palette.ts';
import { writeReport } from '../../shared/local/report-files.ts';

const SCREENSHOT = resolve(import.meta.dirname, '..', 'artifacts', 'report.png');
const MAX_SCREENSHOT_BYTES = 560 * 1024;

/** What the page says about each chart canvas (evaluated in the browser, hence a string). */
const CHARTS_IN_PAGE = `Array.from(document.querySelectorAll('canvas')).map((canvas) => {
  const chart = Chart.getChart(canvas);
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++;
  return { id: canvas.id, data: chart ? chart.data.datasets.map((d) => Array.from(d.data)) : null, width: canvas.width, height: canvas.height, painted };
})`;

interface ChartInPage {
  readonly id: string;
  /** Each dataset's data. */
  readonly data: (number | null)[][] | null;
  readonly width: number;
  readonly height: number;
  readonly painted: number;
}

// Launched when the file loads, so a browser that cannot start fails the run outright instead of showing skipped tests.
const { browser, source } = await launchChromium();

describe(`the report opened from disk in ${source}`, () => {
  let catalog: readonly CohortDefinition[];
  let store: SnapshotStore;
  let governance: CatalogStore;
  let page: Page;
  const requests: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    catalog = fixtureCatalog();
    ({ store, governance } = await fixtureStore(catalog));
    const report = await buildReport({ catalog, store, generatedAt: new Date('2024-06-02T08:00:00Z'), governance });
    const out = await tempDir('cohorts-report-page-');
    await writeReport(out, report.files);

    page = await browser.newPage({ viewport: { width: 1200, height: 800 }, deviceScaleFactor: 1 });
    page.on('request', (request) => requests.push(request.url()));
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    page.on('dialog', (dialog) => {
      problems.push(`dialog opened: ${dialog.message()}`);
      void dialog.dismiss();
    });
    await page.goto(pathToFileURL(join(out, 'index.html')).href, { waitUntil: 'load' });
  });

  afterAll(async () => {
    await browser.close();
  });

  it('loads with no script error, no dialog and no request that leaves the machine', async () => {
    // Prepare / Act: the page was opened in beforeAll.
    // Assess
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((url) => !url.startsWith('file://'))).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('draws a size chart per refreshed cohort and a KPI chart where versions have KPIs, from the manifests', async () => {
    // Prepare
    const expected = new Map<string, (number | null)[][]>();
    for (const definition of catalog) {
      const manifests = await store.manifests(definition.id);
      if (manifests.length > 0) expected.set(`chart-${definition.id}`, [manifests.map((m) => m.size)]);
      if (manifests.some((m) => m.kpis)) {
        const share = (m: Manifest) => (m.kpis?.activation_share == null ? null : Math.round(m.kpis.activation_share * 1000) / 10);
        expected.set(`kpi-chart-${definition.id}`, [manifests.map(share), manifests.map((m) => m.kpis?.value_mean ?? null)]);
      }
    }
    // Act
    const charts = await page.evaluate<ChartInPage[]>(CHARTS_IN_PAGE);
    // Assess
    expect(charts.map((c) => c.id).sort()).toEqual([...expected.keys()].sort());
    for (const chart of charts) {
      expect(chart.data, `${chart.id} has a Chart.js instance`).not.toBeNull();
      expect(chart.data, chart.id).toEqual(expected.get(chart.id));
      expect(chart.width, `${chart.id} has a size`).toBeGreaterThan(100);
      expect(chart.painted, `${chart.id} painted pixels`).toBeGreaterThan(1000);
    }
  });

  it('shows the numbers of the latest manifests in the summary table', async () => {
    for (const definition of catalog) {
      // Prepare
      const manifests = await store.manifests(definition.id);
      const latest = manifests.at(-1);
      const current = await store.current(definition.id);
      const row = page.locator(`#summary tr[data-cohort="${definition.id}"]`);
      const cell = async (field: string) => (await row.locator(`[data-field="${field}"]`).innerText()).trim();
      const count = async (field: string) => Number((await cell(field)).replace(/[^0-9]/g, ''));
      // Act / Assess
      await expect(row.count()).resolves.toBe(1);
      if (!latest) {
        await expect(row.innerText()).resolves.toContain('never refreshed');
        continue;
      }
      expect(await count('size'), `${definition.id} size`).toBe(latest.size);
      expect(await count('entered'), `${definition.id} entered`).toBe(latest.entered);
      expect(await count('exited'), `${definition.id} exited`).toBe(latest.exited);
      expect(await cell('latest')).toBe(`v${latest.version}`);
      expect(await cell('current')).toBe(`v${current}`);
      expect(await cell('status')).toBe(latest.status);
      const failing = latest.checks.filter((c) => c.status === 'fail').map((c) => c.name);
      if (failing.length > 0) expect(await cell('failing')).toBe(failing.join(', '));
    }
  });

  it('shows the KPIs of every version equal to its manifest, and the latest ones in the summary', async () => {
    const shown = (text: string) => (text === '\u2014' ? null : Number(text.replace(/[^0-9.]/g, '')));
    let compared = 0;
    for (const definition of catalog) {
      const manifests = await store.manifests(definition.id);
      for (const manifest of manifests) {
        // Prepare
        const row = page.locator(`#cohort-${definition.id} table.kpis tr[data-version="${manifest.version}"]`);
        const cell = async (field: string) => shown((await row.locator(`[data-field="kpi-${field}"]`).innerText()).trim());
        const k = manifest.kpis;
        const where = `${definition.id} v${manifest.version}`;
        // Act / Assess
        expect(await cell('size'), where).toBe(manifest.size);
        expect(await cell('entered'), where).toBe(manifest.entered);
        expect(await cell('exited'), where).toBe(manifest.exited);
        expect(await cell('activation-count'), where).toBe(k ? k.activation_count : null);
        const share = await cell('activation-share');
        if (k?.activation_share == null) expect(share, where).toBeNull();
        else expect(share, where).toBeCloseTo(k.activation_share * 100, 1);
        const sum = await cell('value-sum');
        if (!k) expect(sum, where).toBeNull();
        else expect(sum, where).toBeCloseTo(k.value_sum, 2);
        const mean = await cell('value-mean');
        if (k?.value_mean == null) expect(mean, where).toBeNull();
        else expect(mean, where).toBeCloseTo(k.value_mean, 2);
        compared++;
      }
      const latest = manifests.at(-1);
      if (latest?.kpis?.activation_share != null) {
        const summary = page.locator(`#summary tr[data-cohort="${definition.id}"]`);
        expect(shown((await summary.locator('[data-field="activation"]').innerText()).trim())).toBeCloseTo(
          latest.kpis.activation_share * 100,
          1,
        );
        expect(shown((await summary.locator('[data-field="value-mean"]').innerText()).trim())).toBeCloseTo(
          latest.kpis.value_mean ?? Number.NaN,
          2,
        );
      }
    }
    expect(compared).toBeGreaterThan(5);
  });

  it("shows every cohort's definition versions as the catalog holds them, with the membership versions made from each", async () => {
    let compared = 0;
    for (const definition of catalog) {
      // Prepare
      const entries = await governance.versions(definition.id);
      const manifests = await store.manifests(definition.id);
      const rows = page.locator(`#cohort-${definition.id} table.definitions tbody tr`);
      // Act
      const shown = await rows.evaluateAll((trs) =>
        trs.map((tr) => {
          const inner = (el: unknown) => (el as { innerText: string } | null)?.innerText.trim() ?? null;
          const text = (field: string) => inner(tr.querySelector(`[data-field="${field}"]`));
          return {
            version: Number(tr.getAttribute('data-definition-version')),
            memberships: (tr.getAttribute('data-memberships') ?? '').split(' ').filter(Boolean).map(Number),
            accepted_at: tr.querySelector('[data-field="accepted-at"]')?.getAttribute('datetime') ?? null,
            change: (text('change') ?? '').split('\n')[0] ?? null,
            change_reason: text('change-reason'),
            author: text('author'),
            approval_by: text('approval-by'),
            approval_note: text('approval-note'),
          };
        }),
      );
      // Assess
      expect(shown, definition.id).toEqual(
        [...entries].reverse().map((e) => ({
          version: e.version,
          memberships: manifests.filter((m) => m.definition.version === e.version).map((m) => m.version),
          accepted_at: e.accepted_at,
          change: e.change,
          change_reason: e.change_reason ?? 'none',
          author: e.author ?? 'unknown',
          approval_by: e.approval?.by ?? null,
          approval_note: e.approval?.note ?? null,
        })),
      );
      for (const m of manifests) {
        const cell = page.locator(`#cohort-${definition.id} table.versions tr[data-version="${m.version}"] [data-field="definition"]`);
        expect((await cell.innerText()).split('\n'), `${definition.id} v${m.version}`).toEqual([
          `d${m.definition.version}`,
          m.definition.hash.slice(0, 12),
        ]);
      }
      compared += entries.length;
    }
    expect(compared).toBeGreaterThan(catalog.length);
    await expect(page.locator('#cohort-power_users figure[data-rule-diff="2"] .diff-add').allInnerTexts()).resolves.toEqual([
      '+     count: {gte: 35}',
    ]);
  });

  it('lists every waiting and refused change the catalog holds above the cohorts, with the command that decides a waiting one', async () => {
    // Prepare: every record of the fixture is still open (none decided, none superseded).
    const cohortsInCatalog = [...(await governance.latest()).keys()].sort();
    const records = (await Promise.all(cohortsInCatalog.map((id) => governance.records(id)))).flat();
    // Act
    const shown = await page.locator('#definition-changes tr[data-open-change]').evaluateAll((trs) =>
      trs.map((tr) => {
        const inner = (el: unknown) => (el as { innerText: string } | null)?.innerText.trim() ?? null;
        const text = (field: string) => inner(tr.querySelector(`[data-field="${field}"]`));
        return {
          cohort: tr.getAttribute('data-open-change'),
          outcome: tr.getAttribute('data-outcome'),
          panel: tr.closest('[data-panel]')?.getAttribute('data-panel') ?? null,
          hash: tr.getAttribute('data-hash') || null,
          since: tr.querySelector('[data-field="since"]')?.getAttribute('datetime') ?? null,
          author: text('author'),
          reasons: Array.from(tr.querySelectorAll('[data-field="reasons"] li')).map((li) => inner(li) ?? ''),
          approve: text('approve-command'),
        };
      }),
    );
    // Assess
    expect(records.length).toBeGreaterThan(1);
    const order = (r: { outcome: string | null; cohort: string | null }) => `${r.outcome === 'pending' ? 0 : 1} ${r.cohort}`;
    expect(shown).toEqual(
      records
        .map((r) => ({
          cohort: r.cohort,
          outcome: r.outcome,
          panel: r.outcome,
          hash: r.hash,
          since: r.at,
          author: r.author ?? 'unknown',
          reasons: [...r.reasons],
          approve: r.outcome === 'pending' ? `cohorts approve ${r.cohort} --by NAME --note WHY` : null,
        }))
        .sort((a, b) => (order(a) < order(b) ? -1 : 1)),
    );
    await expect(page.locator('[data-tile="pending"] strong').innerText()).resolves.toBe(
      String(records.filter((r) => r.outcome === 'pending').length),
    );
    await expect(page.locator('#cohort-power_users tr[data-open-change="power_users"]').count()).resolves.toBe(1);
  });

  it('formats large sizes with thousands separators', async () => {
    await expect(page.locator('#summary tr[data-cohort="engaged_payers"] [data-field="size"]').innerText()).resolves.toBe('12,000');
  });

  it('saves a full-page screenshot small enough to commit', async () => {
    // Act
    const screenshot = await page.screenshot({ fullPage: true });
    await mkdir(resolve(SCREENSHOT, '..'), { recursive: true });
    await writeFile(SCREENSHOT, toPalettePng(screenshot));
    // Assess
    const { size } = await stat(SCREENSHOT);
    expect(size).toBeGreaterThan(10_000);
    expect(size).toBeLessThan(MAX_SCREENSHOT_BYTES);
  });
});
