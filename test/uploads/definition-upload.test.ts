import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JsonlEvents } from '../../shared/local/jsonl-events.ts';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import { executionNameOf, handleDefinitionUpload } from '../../shared/uploads/definition-upload.ts';
import type { RefreshInput, RefreshStarter } from '../../shared/refresh-request.ts';
import { JsonlNotifier } from '../../shared/local/jsonl-notifier.ts';
import { tempDir } from '../support/cli.ts';
import { header, writeDefinitions } from '../support/lake.ts';
import { DEFINITIONS } from '../workflow/support.ts';

/** Records the refreshes it is asked to start. */
class RecordingStarter implements RefreshStarter {
  readonly started: { input: RefreshInput; name: string }[] = [];

  async start(input: RefreshInput, name: string): Promise<string> {
    this.started.push({ input, name });
    return `execution:${name}`;
  }
}

/** A definitions folder holding the live catalog, with local ports around it. */
async function givenCatalog(files: Record<string, string> = DEFINITIONS) {
  const folder = await tempDir('cohorts-definitions-');
  const state = await tempDir('cohorts-uploads-');
  await writeDefinitions(folder, files);
  const definitions = new FsBlobStore(folder);
  const refresh = new RecordingStarter();
  const ports = { definitions, refresh, notifier: JsonlNotifier.inState(state), events: JsonlEvents.inState(state) };
  const lines = async (file: string) =>
    (await readFile(join(state, file), 'utf8').catch(() => ''))
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const catalogFiles = async () => {
    const names = (await readdir(folder)).filter((name) => /\.ya?ml$/.test(name)).sort();
    return Object.fromEntries(await Promise.all(names.map(async (name) => [name, await readFile(join(folder, name), 'utf8')] as const)));
  };
  /** Uploads a file the way an analyst does: under incoming/. */
  const upload = async (name: string, text: string, id = 'event-1') => {
    await definitions.put(`incoming/${name}`, text);
    return handleDefinitionUpload({ key: `incoming/${name}`, id }, ports);
  };
  return { folder, definitions, refresh, upload, alerts: () => lines('alerts.jsonl'), events: () => lines('events.jsonl'), catalogFiles };
}

/** The errors of a rejected upload (none for any other outcome). */
const errorsOf = (outcome: unknown): readonly string[] => (outcome as { errors?: string[] }).errors ?? [];

const PAYERS_90D = `${header('payers')}rule:\n  event: invoice_paid\n  within: 90d\nchange_reason: Quarterly billing customers pay every 90 days.\n`;

describe('a definition uploaded to incoming/', () => {
  it('when valid, joins the catalog and starts a refresh of it and of every cohort that depends on it', async () => {
    // Prepare
    const given = await givenCatalog();
    // Act
    const outcome = await given.upload('payers.yaml', PAYERS_90D, '5f0c6d2e-1b7a-4c1e-9d0a-2f4b8e6a1c3d');
    // Assess
    expect(outcome).toEqual({
      status: 'accepted',
      cohort: 'payers',
      promoted_to: join(given.folder, 'payers.yaml'),
      refresh: { cohorts: ['payers', 'active_payers'], execution: 'execution:upload-5f0c6d2e-1b7a-4c1e-9d0a-2f4b8e6a1c3d' },
    });
    expect((await given.catalogFiles())['payers.yaml']).toBe(PAYERS_90D);
    expect(given.refresh.started).toEqual([
      {
        input: {
          trigger: 'definition-change',
          cohorts: ['payers', 'active_payers'],
          rationale: 'Quarterly billing customers pay every 90 days.',
        },
        name: 'upload-5f0c6d2e-1b7a-4c1e-9d0a-2f4b8e6a1c3d',
      },
    ]);
    expect(await given.alerts()).toEqual([]);
    expect(await given.events()).toEqual([]);
  });

  it('refreshes dependants of dependants too, in dependency order', async () => {
    const given = await givenCatalog({
      ...DEFINITIONS,
      'loyal_payers.yaml': `${header('loyal_payers')}rule:\n  all:\n    - cohort: active_payers\n    - event: login\n      count: 3\n`,
    });

    const outcome = await given.upload('active_users.yaml', `${header('active_users')}rule:\n  event: login\n  within: 14d\n`);

    expect(outcome).toMatchObject({ status: 'accepted', refresh: { cohorts: ['active_users', 'active_payers', 'loyal_payers'] } });
    expect(given.refresh.started[0]?.input).toEqual({
      trigger: 'definition-change',
      cohorts: ['active_users', 'active_payers', 'loyal_payers'],
    });
  });

  it('when invalid, alerts with path:line:col errors, publishes Definition Rejected, and changes nothing', async () => {
    // Prepare
    const given = await givenCatalog();
    const before = await given.catalogFiles();
    const broken = `${header('payers')}rule:\n  event: invoice_paid\n  count: {gte: five}\n`;
    // Act
    const outcome = await given.upload('payers.yaml', broken, 'event-7');
    // Assess
    const path = join(given.folder, 'incoming', 'payers.yaml');
    // The catalog as it would be: the file's own error, and its dependant's reference to it, named as a broken file (not a missing cohort).
    expect(outcome).toMatchObject({
      status: 'rejected',
      cohort: null,
      errors: [
        `${path}:8:16: rule.count.gte must be a non-negative integer, got "five"`,
        expect.stringMatching(
          /active_payers\.yaml:\d+:\d+: cohort "payers" cannot be read: its file .*incoming\/payers\.yaml has problems of its own \(fix those first\)$/,
        ),
      ],
    });
    expect(await given.catalogFiles()).toEqual(before);
    expect(given.refresh.started).toEqual([]);
    const alerts = await given.alerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      severity: 'fail',
      title: 'Definition rejected: incoming/payers.yaml (2 errors)',
      run_id: 'event-7',
      cohorts: [],
    });
    expect(alerts[0]?.body).toContain(`${path}:8:16: rule.count.gte`);
    expect(await given.events()).toEqual([
      expect.objectContaining({
        source: 'cohort-refresh',
        'detail-type': 'Definition Rejected',
        detail: {
          status: 'rejected',
          cohort: null,
          path: 'incoming/payers.yaml',
          location: path,
          errors: errorsOf(outcome),
          run_id: 'event-7',
        },
      }),
    ]);
  });

  it('is rejected when it is valid alone but breaks a cohort that depends on it', async () => {
    const given = await givenCatalog();
    const deprecated = `${header('payers')}rule:\n  event: invoice_paid\ndeprecated:\n  reason: Billing moved.\n`;

    const outcome = await given.upload('payers.yaml', deprecated);

    expect(outcome).toMatchObject({ status: 'rejected', cohort: 'payers' });
    const errors = errorsOf(outcome);
    expect(errors).toEqual([expect.stringMatching(/active_payers\.yaml:\d+:\d+: cohort "payers" is deprecated/)]);
    expect(await given.alerts()).toEqual([expect.objectContaining({ cohorts: ['payers'] })]);
    expect(given.refresh.started).toEqual([]);
  });

  it('retires a cohort nothing depends on without refreshing it', async () => {
    const given = await givenCatalog();
    const deprecated = `${header('big_cohort')}rule:\n  event: login\ndeprecated:\n  reason: Nobody uses it.\n`;

    const outcome = await given.upload('big_cohort.yaml', deprecated);

    expect(outcome).toMatchObject({ status: 'accepted', cohort: 'big_cohort', refresh: null });
    expect((await given.catalogFiles())['big_cohort.yaml']).toBe(deprecated);
    expect(given.refresh.started).toEqual([]);
  });

  it('replaces the catalog file of the same id even when its extension differs', async () => {
    const { 'payers.yaml': payers, ...others } = DEFINITIONS;
    const given = await givenCatalog({ ...others, 'payers.yml': payers });

    await given.upload('payers.yaml', PAYERS_90D);

    expect(Object.keys(await given.catalogFiles())).toEqual(['active_payers.yaml', 'active_users.yaml', 'big_cohort.yaml', 'payers.yml']);
    expect((await given.catalogFiles())['payers.yml']).toBe(PAYERS_90D);
  });

  it('starts nothing when it is the file the catalog already holds', async () => {
    const given = await givenCatalog();

    const outcome = await given.upload('payers.yaml', DEFINITIONS['payers.yaml']);

    expect(outcome).toEqual({ status: 'unchanged', cohort: 'payers', path: join(given.folder, 'payers.yaml') });
    expect(given.refresh.started).toEqual([]);
  });

  it('is rejected when it is not a definition file directly under incoming/', async () => {
    const given = await givenCatalog();

    const nested = await given.upload('team/payers.yaml', PAYERS_90D);
    const text = await given.upload('payers.txt', PAYERS_90D);

    for (const outcome of [nested, text]) {
      expect(outcome).toMatchObject({ status: 'rejected', errors: [expect.stringContaining('upload definitions as incoming/<id>.yaml')] });
    }
    expect(await given.events()).toHaveLength(2);
    expect(given.refresh.started).toEqual([]);
  });

  it('does nothing when the upload is gone by the time it is read', async () => {
    const given = await givenCatalog();

    const outcome = await handleDefinitionUpload(
      { key: 'incoming/ghost.yaml', id: 'e' },
      { ...given, notifier: { notify: async () => {} }, events: { publish: async () => {} } },
    );

    expect(outcome).toEqual({ status: 'gone', key: 'incoming/ghost.yaml' });
  });

  it('names the refresh after the upload in a form Step Functions accepts', () => {
    expect(executionNameOf({ key: 'incoming/x.yaml', id: 'a:b c' })).toBe('upload-a-b-c');
    expect(executionNameOf({ key: 'incoming/x.yaml', id: 'x'.repeat(100) })).toHaveLength(80);
  });
});
