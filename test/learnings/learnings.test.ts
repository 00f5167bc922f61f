import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../shared/cloud/s3-blob-store.ts';
import { InvalidLearningError, LearningsStore } from '../../shared/learnings/learnings-store.ts';
import { loadCatalog } from '../../shared/language/catalog.ts';
import { buildReport } from '../../shared/report/build-report.ts';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import { openLocalContext } from '../../shared/local/local-context.ts';
import { cohorts, tempDir, projectFolders } from '../support/cli.ts';
import { WARN_ONLY_CONFIG_YAML } from '../support/config.ts';
import { header, writeDefinitions, writeLake } from '../support/lake.ts';
import '../cloud/support.ts';

const AT = new Date('2024-06-02T08:30:00Z');

describe('the learnings store', () => {
  it('keeps each note as its own object beside the snapshots and lists them oldest first', async () => {
    // Prepare
    const root = await tempDir();
    const blobs = new FsBlobStore(root);
    let n = 0;
    const store = new LearningsStore(blobs, () => `id${++n}`);

    // Act
    await store.record({
      cohort: 'power_users',
      version: 2,
      note: '  Exports doubled after the CSV launch.  ',
      by: 'ana',
      at: new Date('2024-06-03T00:00:00Z'),
    });
    await store.record({ cohort: 'power_users', version: 1, note: 'First read-out with growth.', at: AT });

    // Assess
    expect(await blobs.list('snapshots/cohort=power_users/')).toEqual([
      'snapshots/cohort=power_users/learnings/20240602T083000000Z-id2.json',
      'snapshots/cohort=power_users/learnings/20240603T000000000Z-id1.json',
    ]);
    expect(await store.list('power_users')).toEqual([
      { cohort: 'power_users', version: 1, note: 'First read-out with growth.', by: null, recorded_at: '2024-06-02T08:30:00.000Z' },
      {
        cohort: 'power_users',
        version: 2,
        note: 'Exports doubled after the CSV launch.',
        by: 'ana',
        recorded_at: '2024-06-03T00:00:00.000Z',
      },
    ]);
    expect(await store.list('other_cohort')).toEqual([]);
  });

  it('records the same note once, so a learn killed after storing its note and run again leaves one note', async () => {
    // Prepare
    const blobs = new FsBlobStore(await tempDir());
    let n = 0;
    const store = new LearningsStore(blobs, () => `id${++n}`);
    const first = await store.record({ cohort: 'power_users', version: 2, note: 'Exports doubled.', by: 'ana', at: AT });

    // Act
    const again = await store.record({
      cohort: 'power_users',
      version: 2,
      note: ' Exports doubled. ',
      by: 'ana',
      at: new Date('2024-06-02T08:31:00Z'),
    });
    const otherVersion = await store.record({ cohort: 'power_users', version: 1, note: 'Exports doubled.', by: 'ana', at: AT });
    const otherAuthor = await store.record({ cohort: 'power_users', version: 2, note: 'Exports doubled.', at: AT });

    // Assess
    expect(first.added).toBe(true);
    expect(again).toEqual({ learning: first.learning, added: false });
    expect([otherVersion.added, otherAuthor.added]).toEqual([true, true]);
    expect(await blobs.list('snapshots/cohort=power_users/learnings/')).toHaveLength(3);
  });

  it('refuses an empty note and a key that is not a cohort id', async () => {
    const store = new LearningsStore(new FsBlobStore(await tempDir()));
    await expect(store.record({ cohort: 'power_users', version: 1, note: '   ', at: AT })).rejects.toBeInstanceOf(InvalidLearningError);
    await expect(store.record({ cohort: '../escape', version: 1, note: 'x', at: AT })).rejects.toBeInstanceOf(InvalidLearningError);
  });

  it('appends on S3 with a conditional write that never replaces another note', async () => {
    // Prepare
    const s3 = mockClient(S3Client);
    s3.on(PutObjectCommand).resolves({});
    s3.on(ListObjectsV2Command).resolves({});
    const store = new LearningsStore(
      new S3BlobStore(new S3Client({ region: 'eu-central-1' }), { bucket: 'snapshots-bucket', prefix: '' }),
      () => 'fixed',
    );

    // Act
    await store.record({ cohort: 'power_users', version: 3, note: 'Holdout converted as well as treatment.', by: 'ana', at: AT });

    // Assess
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'snapshots-bucket',
      Key: 'snapshots/cohort=power_users/learnings/20240602T083000000Z-fixed.json',
      IfNoneMatch: '*',
    });
    s3.restore();
  });
});

describe('cohorts learn', () => {
  let root: string;
  let folders: string[];

  beforeAll(async () => {
    root = await tempDir();
    await writeLake(join(root, 'data'), [
      { event_id: '1', source: 'product', user_id: 'ann', event_name: 'login', ts: '2024-05-30T00:00:00Z' },
    ]);
    await writeDefinitions(join(root, 'definitions'), {
      'active_users.yaml': `${header('active_users')}rule:\n  event: login\n  within: 7d\n`,
    });
    await writeFile(join(root, 'cohorts.config.yaml'), WARN_ONLY_CONFIG_YAML);
    folders = projectFolders(root);
    await cohorts('run', '--as-of', '2024-06-01T00:00:00Z', ...folders);
    await cohorts('run', '--as-of', '2024-06-02T00:00:00Z', ...folders);
  });

  it('records a note on the current version by default and on a given version, and history shows both', async () => {
    expect((await cohorts('learn', 'active_users', 'Launch week: logins peaked.', '--by', 'ana', ...folders)).code).toBe(0);
    expect((await cohorts('learn', 'active_users', 'Baseline before the launch.', '--version', '1', ...folders)).code).toBe(0);
    const history = (await cohorts('history', 'active_users', ...folders)).stdout;
    const notes = history.slice(history.indexOf('learnings') + 1);
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(/^v2 {2}\d{4}-\d{2}-\d{2} \d{2}:\d{2} {2}ana: Launch week: logins peaked\.$/);
    expect(notes[1]).toMatch(/^v1 .* unknown: Baseline before the launch\.$/);
  });

  it('adds nothing when the same note is recorded again (a retry after a crash) and says so', async () => {
    const again = await cohorts('learn', 'active_users', 'Launch week: logins peaked.', '--by', 'ana', ...folders);
    expect(again.code).toBe(0);
    expect(again.stderr.join('\n')).toMatch(/this note is already recorded for active_users v2 by ana \(at \d{4}-.*\): nothing added/);
    const history = (await cohorts('history', 'active_users', ...folders)).stdout;
    expect(history.filter((line) => line.endsWith('Launch week: logins peaked.'))).toHaveLength(1);
  });

  it('refuses a version the cohort does not have, and a cohort without versions', async () => {
    const wrong = await cohorts('learn', 'active_users', 'x', '--version', '9', ...folders);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr.join('\n')).toContain('cohort "active_users" has no version 9; it has v1 to v2');
    const none = await cohorts('learn', 'no_such_cohort', 'x', ...folders);
    expect(none.code).toBe(2);
    expect(none.stderr.join('\n')).toContain('has no versions');
  });

  it('shows the notes in the cohort section of the report', async () => {
    const catalog = await loadCatalog(join(root, 'definitions'));
    const { store } = await openLocalContext({ data: join(root, 'data'), state: join(root, 'state') });
    const learnings = new LearningsStore(new FsBlobStore(join(root, 'state')));
    const { files } = await buildReport({ catalog: catalog.definitions, store, generatedAt: AT, learnings });
    const section = files['index.html']?.split('id="cohort-active_users"')[1] ?? '';
    expect(section).toContain('<h3>Learnings</h3>');
    expect(section).toContain('<p>Launch week: logins peaked.</p>');
    expect(section).toMatch(/data-learning-version="1"><p>Baseline before the launch\.<\/p>/);
  });
});
