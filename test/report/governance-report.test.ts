import { S3Client } from '@aws-sdk/client-s3';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../shared/cloud/s3-blob-store.ts';
import { CatalogStore } from '../../shared/governance/catalog-store.ts';
import { openChanges } from '../../shared/governance/open-changes.ts';
import { loadCatalog } from '../../shared/language/catalog.ts';
import { stateCatalog } from '../../shared/local/state-catalog.ts';
import { buildReport } from '../../shared/report/build-report.ts';
import { loadDefinitionVersions } from '../../shared/report/definition-history.ts';
import { versionRanges } from '../../shared/report/definition-versions-table.ts';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import type { Manifest } from '../../shared/store/manifest.ts';
import { ParquetMembersCodec } from '../../shared/store/parquet-members-codec.ts';
import { SnapshotStore } from '../../shared/store/snapshot-store.ts';
import { cohorts, tempDir, projectFolders } from '../support/cli.ts';
import { WARN_ONLY_CONFIG_YAML } from '../support/config.ts';
import { writeDefinitions, writeLake } from '../support/lake.ts';
import { definitionYaml, LOGIN_EVENTS, MONTH_OF_LOGINS, WEEK_OF_LOGINS } from '../governance/support.ts';
import { FakeAws } from '../workflow/fake-aws.ts';
import { element, fieldText, textOf } from './html-text.ts';

const AS_OF = '2024-06-01T00:00:00Z';
const AUTHOR = 'ann <ann@example.com>';

/*
 * One real local history, built once: two core cohorts refreshed; then core_users' rule doubles its
 * size with a change_reason (it waits for an approval) and loyal_users' rule changes without one
 * (refused); each stage's report and catalog are kept to compare.
 */
describe('the report shows definition versions and the changes waiting or refused', () => {
  let root: string;
  let folders: string[];
  const definition = (name: string) => join(root, 'definitions', name);
  const state = () => join(root, 'state');
  const run = (asOf: string) => cohorts('run', '--as-of', asOf, '--author', AUTHOR, ...folders);
  const reportPage = async () => {
    expect((await cohorts('report', ...folders)).code).toBe(0);
    return readFile(join(state(), 'report', 'index.html'), 'utf8');
  };
  const manifests = async (id: string) => {
    const out: Manifest[] = [];
    for (let v = 1; ; v++) {
      try {
        out.push(
          JSON.parse(await readFile(join(state(), 'snapshots', `cohort=${id}`, `version=${v}`, 'manifest.json'), 'utf8')) as Manifest,
        );
      } catch {
        return out;
      }
    }
  };
  const working = async () => (await loadCatalog(join(root, 'definitions'))).definitions;
  /** The same report with the catalog read from the state folder and from a copy of it in the (fake) definitions bucket. */
  const reportsOverFolderAndBucket = async () => {
    const aws = new FakeAws();
    aws.reset();
    const files = (await readdir(join(state(), 'catalog'), { recursive: true })).filter((f) => f.endsWith('.json'));
    for (const file of files) aws.put('definitions-bucket', `catalog/${file}`, await readFile(join(state(), 'catalog', file)));
    const bucket = new CatalogStore(new S3BlobStore(new S3Client({ region: 'eu-central-1' }), { bucket: 'definitions-bucket' }));
    const store = new SnapshotStore(new FsBlobStore(state()), new ParquetMembersCodec());
    const page = async (governance: CatalogStore) =>
      (await buildReport({ catalog: await working(), store, generatedAt: new Date('2024-06-02T00:00:00Z'), governance })).files[
        'index.html'
      ] as string;
    const pages = { overFolder: await page(stateCatalog(state())), overBucket: await page(bucket) };
    aws.s3.restore();
    return pages;
  };

  let waitingPage: string;
  let approvedPage: string;
  let acceptedPage: string;
  let fixedPage: string;
  let waitingOpen: Awaited<ReturnType<typeof openChanges>>;
  let overFolder: string;
  let overBucket: string;
  let approvedOpen: Awaited<ReturnType<typeof openChanges>>;

  beforeAll(async () => {
    root = await tempDir();
    await writeLake(join(root, 'data'), LOGIN_EVENTS);
    await writeDefinitions(join(root, 'definitions'), {
      'core_users.yaml': definitionYaml('core_users', { rule: WEEK_OF_LOGINS }),
      'loyal_users.yaml': definitionYaml('loyal_users', { rule: MONTH_OF_LOGINS }),
    });
    await writeFile(join(root, 'cohorts.config.yaml'), WARN_ONLY_CONFIG_YAML);
    folders = projectFolders(root, state());
    expect((await run(AS_OF)).code).toBe(0);

    await writeFile(
      definition('core_users.yaml'),
      definitionYaml('core_users', { rule: MONTH_OF_LOGINS, reason: 'A month shows regulars better.' }),
    );
    await writeFile(definition('loyal_users.yaml'), definitionYaml('loyal_users', { rule: WEEK_OF_LOGINS }));
    expect((await run('2024-06-01T06:00:00Z')).code).toBe(1);
    waitingPage = await readFile(join(state(), 'report', 'index.html'), 'utf8');
    waitingOpen = await openChanges(await working(), stateCatalog(state()));
    ({ overFolder, overBucket } = await reportsOverFolderAndBucket());

    expect((await cohorts('approve', 'core_users', '--by', 'dana', '--note', 'Reviewed the new members.', ...folders)).code).toBe(0);
    approvedPage = await reportPage();
    approvedOpen = await openChanges(await working(), stateCatalog(state()));

    expect((await run('2024-06-01T08:00:00Z')).code).toBe(1);
    acceptedPage = await readFile(join(state(), 'report', 'index.html'), 'utf8');

    await writeFile(definition('loyal_users.yaml'), definitionYaml('loyal_users', { rule: MONTH_OF_LOGINS }));
    fixedPage = await reportPage();
  }, 120_000);

  const section = (page: string, id: string) => element(page, 'section', 'id', `cohort-${id}`);
  const panel = (page: string) => element(page, 'section', 'id', 'definition-changes');
  const rows = (fragment: string, attribute: string) =>
    [...fragment.matchAll(new RegExp(`<tr data-${attribute}="([^"]*)"`, 'g'))].map((m) => m[1]);

  it('finds the waiting and the refused change the refresh recorded, with its hash, reasons, author and time', async () => {
    // Prepare
    const catalog = stateCatalog(state());
    const [core] = await catalog.records('core_users');
    const [loyal] = await catalog.records('loyal_users');
    const byId = new Map((await working()).map((d) => [d.id, d]));
    // Assess
    expect(waitingOpen.map((c) => [c.record.cohort, c.record.outcome])).toEqual([
      ['core_users', 'pending'],
      ['loyal_users', 'refused'],
    ]);
    expect(waitingOpen[0]?.record).toEqual(core);
    expect(waitingOpen[1]?.record).toEqual(loyal);
    expect(core).toMatchObject({ outcome: 'pending', hash: byId.get('core_users')?.hash, author: AUTHOR });
    expect(core?.reasons.join(' ')).toContain('more than guardrails.approval_size_change_pct (25%)');
    expect(loyal?.reasons.join(' ')).toContain('needs a new change_reason');
    expect(waitingOpen.map((c) => c.published?.version)).toEqual([1, 1]);
  });

  it('shows the same changes in the index panel and in each cohort section, with the commands that decide a waiting one', () => {
    // Act
    const shown = panel(waitingPage);
    // Assess
    expect(rows(element(shown, 'div', 'data-panel', 'pending'), 'open-change')).toEqual(['core_users']);
    expect(rows(element(shown, 'div', 'data-panel', 'refused'), 'open-change')).toEqual(['loyal_users']);
    const pending = element(shown, 'tr', 'data-open-change', 'core_users');
    const record = waitingOpen[0]!.record;
    expect(pending).toContain(`data-hash="${record.hash}"`);
    expect(fieldText(pending, 'author')).toBe(AUTHOR);
    expect(fieldText(pending, 'reasons')).toBe(record.reasons.join(' '));
    expect(pending).toContain(`datetime="${record.at}"`);
    expect(fieldText(pending, 'approve-command')).toBe('cohorts approve core_users --by NAME --note WHY');
    expect(fieldText(pending, 'reject-command')).toBe('cohorts reject core_users --by NAME --note WHY');
    expect(textOf(pending)).toContain('refreshes keep d1');
    const refused = element(shown, 'tr', 'data-open-change', 'loyal_users');
    expect(fieldText(refused, 'next-step')).toContain('cannot be approved');
    expect(refused).not.toContain('cohorts approve');
    expect(textOf(element(waitingPage, 'li', 'data-tile', 'pending'))).toBe('1Waiting for approval');
    expect(textOf(element(waitingPage, 'li', 'data-tile', 'refused'))).toBe('1Changes refused');
    expect(rows(section(waitingPage, 'core_users'), 'open-change')).toEqual(['core_users']);
    expect(rows(section(waitingPage, 'loyal_users'), 'open-change')).toEqual(['loyal_users']);
    const diff = element(section(waitingPage, 'core_users'), 'figure', 'data-rule-diff', 'working');
    expect(diff).toContain('<span class="diff-del">- within: 7d</span><span class="diff-add">+ within: 30d</span>');
    expect(fieldText(section(waitingPage, 'core_users'), 'working-note')).toBe(
      'The working definition, waiting for approval; refreshes use d1.',
    );
  });

  it('reads the catalog through its blob store port: the definitions bucket gives the same report as the state folder', () => {
    expect(overBucket).toContain('data-open-change="core_users"');
    expect(overBucket).toContain('data-definition-version="1"');
    expect(overBucket === overFolder).toBe(true);
  });

  it('ends a waiting change with its decision, before the next refresh accepts it', () => {
    expect(approvedOpen.map((c) => c.record.cohort)).toEqual(['loyal_users']);
    expect(rows(panel(approvedPage), 'open-change')).toEqual(['loyal_users']);
    expect(rows(section(approvedPage, 'core_users'), 'open-change')).toEqual([]);
  });

  it('lists every accepted definition version with its change, reason, author, approval and the membership versions it made', async () => {
    // Prepare
    const catalog = stateCatalog(state());
    const entries = await catalog.versions('core_users');
    const made = await manifests('core_users');
    const views = await loadDefinitionVersions('core_users', catalog, made);
    // Assess: the data, against the catalog and the manifests
    expect(views.map((v) => v.entry)).toEqual(entries);
    expect(entries.map((e) => [e.version, e.change, e.change_reason, e.author, e.approval?.by ?? null])).toEqual([
      [1, 'added', null, AUTHOR, null],
      [2, 'changed', 'A month shows regulars better.', AUTHOR, 'dana'],
    ]);
    for (const view of views) {
      expect(view.memberships, `d${view.entry.version}`).toEqual(
        made.filter((m) => m.definition.version === view.entry.version).map((m) => m.version),
      );
    }
    expect(views.map((v) => v.memberships)).toEqual([[1, 2], [3]]);
    expect(views[1]?.fields).toEqual(['rule', 'change_reason']);
    expect(views[1]?.ruleDiff?.filter((l) => l.op !== ' ').map((l) => `${l.op} ${l.text}`)).toEqual(['- within: 7d', '+ within: 30d']);
    // Assess: the page
    const shown = section(acceptedPage, 'core_users');
    expect(rows(shown, 'definition-version')).toEqual(['2', '1']);
    for (const view of views) {
      const e = view.entry;
      const row = element(shown, 'tr', 'data-definition-version', String(e.version));
      expect(row).toContain(`data-memberships="${view.memberships.join(' ')}"`);
      expect(fieldText(row, 'memberships')).toBe(`${versionRanges(view.memberships)} ${e.hash?.slice(0, 12)}`);
      expect(fieldText(row, 'author')).toBe(e.author);
      expect(row).toContain(`datetime="${e.accepted_at}"`);
      expect(fieldText(row, 'change-reason')).toBe(e.change_reason ?? 'none');
      if (e.approval) {
        expect(fieldText(row, 'approval-by')).toBe(e.approval.by);
        expect(fieldText(row, 'approval-note')).toBe(e.approval.note);
      } else {
        expect(fieldText(row, 'approval')).toBe('not needed');
      }
    }
    for (const m of made) {
      expect(fieldText(element(element(shown, 'table', 'class', 'versions'), 'tr', 'data-version', String(m.version)), 'definition')).toBe(
        `d${m.definition.version} ${m.definition.hash.slice(0, 12)}`,
      );
    }
    const diff = element(shown, 'figure', 'data-rule-diff', '2');
    expect(diff).toContain('<span class="diff-del">- within: 7d</span>');
    expect(diff).toContain('<span class="diff-add">+ within: 30d</span>');
    expect(rows(panel(acceptedPage), 'open-change')).toEqual(['loyal_users']);
  });

  it('ends a refused change once the working definition is the accepted one again', () => {
    expect(rows(panel(fixedPage), 'open-change')).toEqual([]);
    expect(textOf(panel(fixedPage))).toContain('No definition change is waiting for an approval or refused.');
    expect(textOf(element(fixedPage, 'li', 'data-tile', 'refused'))).toBe('0Changes refused');
  });

  it('writes membership versions as ranges', () => {
    expect(versionRanges([1, 2, 3, 5, 7, 8])).toBe('v1\u2013v3, v5, v7\u2013v8');
    expect(versionRanges([])).toBe('');
  });
});
