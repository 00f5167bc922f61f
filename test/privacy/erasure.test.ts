import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { personIdsCsv } from '../../shared/deliver/exports.ts';
import { processDeletionRequests } from '../../shared/privacy/deletion-requests.ts';
import { forgetPerson, InvalidPersonIdError } from '../../shared/privacy/erase.ts';
import { erasureRecords } from '../../shared/privacy/erasure-records.ts';
import { localKeyFile } from '../../shared/local/local-key.ts';
import { personHash } from '../../shared/privacy/person-hash.ts';
import { PrivacyConfigError } from '../../shared/privacy/ports.ts';
import { loadPrivacyLists } from '../../shared/privacy/screen.ts';
import type { Manifest } from '../../shared/store/manifest.ts';
import { experimentWorld, filesUnder, privacyWorld, textFilesHolding } from './support.ts';

describe('a deletion request (cohorts forget)', () => {
  it('rewrites every stored version without the person, correcting size, entered and exited', async () => {
    // GIVEN two refreshes: active_users v1 = ann, bob, dora; v2 = bob, dora (ann exited)
    const world = await privacyWorld();
    await world.run('2024-06-01T00:00:00Z');
    await world.run('2024-06-06T12:00:00Z');
    expect(await world.store.members('active_users', 2)).toEqual(['bob', 'dora@example.com']);

    // WHEN bob is forgotten
    const outcome = await forgetPerson('bob', world.privacy, 'cli');

    // THEN no stored version holds him, and each manifest describes its rewritten members
    expect(await world.store.members('active_users', 1)).toEqual(['ann', 'dora@example.com']);
    expect(await world.store.members('active_users', 2)).toEqual(['dora@example.com']);
    const v1 = (await world.store.manifest('active_users', 1)) as Manifest;
    const v2 = (await world.store.manifest('active_users', 2)) as Manifest;
    expect(v1).toMatchObject({ size: 2, entered: 2, exited: 0, erasure: { removed: 1, requests: 1 } });
    expect(v2).toMatchObject({ size: 1, entered: 0, exited: 1, erasure: { removed: 1, requests: 1 } });
    expect(await world.store.members('all_users', 1)).toEqual(['ann', 'cid', 'dora@example.com']);
    expect(outcome.versions_rewritten).toBe(4);
    expect(outcome.cohorts).toEqual(['active_users', 'all_users']);
  });

  it('publishes a new version without the person for every cohort whose current version held them', async () => {
    const world = await privacyWorld();
    await world.run('2024-06-01T00:00:00Z');
    const outcome = await forgetPerson('bob', world.privacy, 'cli');
    expect(outcome.new_versions).toEqual([
      { cohort: 'active_users', version: 2 },
      { cohort: 'all_users', version: 2 },
    ]);
    expect(await world.store.current('active_users')).toBe(2);
    const erased = (await world.store.manifest('active_users', 2)) as Manifest;
    expect(erased).toMatchObject({ trigger: 'erasure', status: 'published', previous_version: 1, size: 2, entered: 0, exited: 0 });
    expect(erased.rationale).toContain(`erasure record ${outcome.record}`);
    expect(await world.store.members('active_users', 2)).toEqual(['ann', 'dora@example.com']);
  });

  it('leaves no trace of the id in the state folder: the audit record keeps only salted hashes', async () => {
    const world = await privacyWorld();
    await world.run('2024-06-01T00:00:00Z');
    await forgetPerson('bob', world.privacy, 'cli');
    expect(await textFilesHolding(world.state, 'bob')).toEqual([]);
    for (const file of (await filesUnder(world.state)).filter((f) => f.endsWith('.parquet'))) {
      expect(await world.engine.decode(new Uint8Array(await readFile(file)))).not.toContain('bob');
    }
    const [record] = await erasureRecords(world.privacy);
    const key = (await readFile(join(world.root, 'config', 'privacy-key'), 'utf8')).trim();
    expect(record?.person_hashes).toEqual([personHash(key, 'bob')]);
    // The run exported v1 of both cohorts: bob is in members and entered of each, CSV and Parquet (2 x 2 x 2 files).
    expect(record).toMatchObject({ source: 'cli', completed_at: '2024-06-10T00:00:00.000Z', rewritten: { versions: 2, exports: 8 } });
  });

  it('keeps the forgotten person out of every later refresh, though their events stay in the lake', async () => {
    const world = await privacyWorld();
    await world.run('2024-06-01T00:00:00Z');
    await forgetPerson('bob', world.privacy, 'cli');
    const later = await world.run('2024-06-06T12:00:00Z');
    const active = later.cohorts.find((c) => c.cohort === 'active_users');
    expect(await world.store.members('active_users', active?.version as number)).toEqual(['dora@example.com']);
    const manifest = (await world.store.manifest('active_users', active?.version as number)) as Manifest;
    expect(manifest.lineage.privacy).toEqual({ suppressed: 0, forgotten: 1 });
    expect(await world.findingsOf(later)).toEqual([]);
  });

  it('matches the id in its normalized form, as e-mail ids are stored', async () => {
    const world = await privacyWorld();
    await world.run('2024-06-01T00:00:00Z');
    await forgetPerson('  Dora@Example.COM ', world.privacy, 'cli');
    expect(await world.store.members('active_users', 1)).toEqual(['ann', 'bob']);
    expect(await textFilesHolding(world.state, 'dora@example.com')).toEqual([]);
  });

  it('finds nothing left to do when the same person is forgotten again', async () => {
    const world = await privacyWorld();
    await world.run('2024-06-01T00:00:00Z');
    await forgetPerson('bob', world.privacy, 'cli');
    const again = await forgetPerson('bob', world.privacy, 'cli');
    expect(again).toMatchObject({ versions_rewritten: 0, new_versions: [], exports_rewritten: 0 });
    expect(await world.store.versions('active_users')).toEqual([1, 2]);
    expect(await erasureRecords(world.privacy)).toHaveLength(1);
  });

  it('rewrites export files: CSV rows with the person and Parquet member copies', async () => {
    const world = await privacyWorld();
    await world.run('2024-06-01T00:00:00Z');
    const folder = 'exports/cohort=active_users/version=1/';
    await world.blobs.put(`${folder}members.csv`, 'person_id\nann\nbob\n"dora@example.com"\n');
    await world.blobs.put(`${folder}holdout.csv`, 'person_id,arm\nbob,holdout\nann,treatment\n');
    await world.blobs.put(`${folder}members.parquet`, await world.engine.encode(['ann', 'bob']));
    const outcome = await forgetPerson('bob', world.privacy, 'cli');
    // The three files above, and the six others of what the run exported that hold bob: entered of
    // active_users, members and entered of all_users, CSV and Parquet.
    expect(outcome.exports_rewritten).toBe(9);
    expect(await readFile(join(world.state, folder, 'members.csv'), 'utf8')).toBe('person_id\nann\n"dora@example.com"\n');
    expect(await readFile(join(world.state, folder, 'holdout.csv'), 'utf8')).toBe('person_id,arm\nann,treatment\n');
    expect(await world.engine.decode((await world.blobs.get(`${folder}members.parquet`)) as Uint8Array)).toEqual(['ann']);
  });

  it('finds a person in a neutralized CSV cell and in a cell written before cells were neutralized', async () => {
    // GIVEN an export written by the CSV writer (=x becomes '=x) and an older one holding =x as written
    const world = await privacyWorld();
    await world.run('2024-06-01T00:00:00Z');
    const folder = 'exports/cohort=active_users/version=1/';
    await world.blobs.put(`${folder}members.csv`, personIdsCsv(['=x', 'ann']));
    await world.blobs.put(`${folder}entered.csv`, 'person_id\n=x\nann\n');

    // WHEN =x is forgotten
    const outcome = await forgetPerson('=x', world.privacy, 'cli');

    // THEN both rows are gone, and only they
    expect(outcome.exports_rewritten).toBe(2);
    expect(await readFile(join(world.state, folder, 'members.csv'), 'utf8')).toBe('person_id\nann\n');
    expect(await readFile(join(world.state, folder, 'entered.csv'), 'utf8')).toBe('person_id\nann\n');
  });

  it('rewrites the holdout split of an experiment cohort, in the stored version and the new one', async () => {
    // GIVEN an experiment cohort with half of its members held out
    const world = await experimentWorld();
    await world.run('2024-06-01T00:00:00Z');
    const [held] = (await world.store.holdout('all_users', 1)) as string[];
    expect(held).toBeDefined();

    // WHEN a held-out member is forgotten
    await forgetPerson(held as string, world.privacy, 'cli');

    // THEN neither version's holdout holds them, and each split adds up to its members
    for (const version of [1, 2]) {
      const holdout = (await world.store.holdout('all_users', version)) as string[];
      const manifest = (await world.store.manifest('all_users', version)) as Manifest;
      expect(holdout, `v${version}`).not.toContain(held);
      expect(manifest.experiment).toMatchObject({ holdout_size: holdout.length, treatment_size: manifest.size - holdout.length });
    }
    expect(await world.store.current('all_users')).toBe(2);
  });

  it('refuses an empty id', async () => {
    const world = await privacyWorld();
    await expect(forgetPerson('  ', world.privacy, 'cli')).rejects.toThrow(InvalidPersonIdError);
  });
});

describe('deletion request objects', () => {
  it('are carried out at the start of a refresh and then no longer hold the id', async () => {
    // GIVEN a published version with bob and a request object naming him
    const world = await privacyWorld();
    await world.run('2024-06-01T00:00:00Z');
    const key = 'privacy/deletion-requests/2024-06-09-ticket-42.json';
    await world.blobs.put(key, JSON.stringify({ person_id: 'bob' }));

    // WHEN the next refresh runs
    const summary = await world.run('2024-06-06T12:00:00Z');

    // THEN bob was erased from the old version and left out of the new one
    expect(await world.store.members('active_users', 1)).toEqual(['ann', 'dora@example.com']);
    const written = summary.cohorts.find((c) => c.cohort === 'active_users')?.version as number;
    expect(await world.store.members('active_users', written)).toEqual(['dora@example.com']);
    const processed = JSON.parse(Buffer.from((await world.blobs.get(key)) as Uint8Array).toString('utf8')) as Record<string, unknown>;
    expect(processed).toEqual({ processed_at: '2024-06-10T00:00:00.000Z', erasure_records: [expect.stringMatching(/^[0-9a-f]{12}$/)] });
    expect((await erasureRecords(world.privacy))[0]?.source).toBe(`deletion-request:${key}`);
    expect(await textFilesHolding(world.state, 'bob')).toEqual([]);
  });

  it('take one id a line as text, and are processed once', async () => {
    const world = await privacyWorld();
    await world.run('2024-06-01T00:00:00Z');
    await world.blobs.put('privacy/deletion-requests/batch.txt', '# from the helpdesk\nann\n\ncid\n');
    // ann: v1 of both cohorts; cid: all_users v1 and the version written without ann.
    expect((await processDeletionRequests(world.privacy)).map((o) => o.versions_rewritten)).toEqual([2, 2]);
    expect(await processDeletionRequests(world.privacy)).toEqual([]);
    expect(await world.store.members('all_users', 1)).toEqual(['bob', 'dora@example.com']);
  });

  it('that name nobody stop the refresh with a named error instead of being skipped', async () => {
    const world = await privacyWorld();
    await world.blobs.put('privacy/deletion-requests/bad.json', JSON.stringify({ person: 'bob' }));
    await expect(world.run('2024-06-01T00:00:00Z')).rejects.toMatchObject({ step: 'Plan', error: 'InvalidDeletionRequestError' });
  });
});

describe('the key of erasure records', () => {
  it('is generated once, mode 0600, outside the state folder, and reused', async () => {
    const world = await privacyWorld();
    await forgetPerson('bob', world.privacy, 'cli');
    const file = join(world.root, 'config', 'privacy-key');
    const key = await readFile(file, 'utf8');
    expect(key).toMatch(/^[0-9a-f]{64}\n$/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await forgetPerson('ann', world.privacy, 'cli');
    expect(await readFile(file, 'utf8')).toBe(key);
    expect(await filesUnder(world.state)).not.toContainEqual(expect.stringMatching(/privacy\/salt$/));
    expect(await textFilesHolding(world.state, key.trim())).toEqual([]);
  });

  it('is refused inside the state folder', async () => {
    const world = await privacyWorld();
    expect(() => localKeyFile(join(world.state, 'key'), { folder: world.state, blobs: world.blobs })).toThrow(/inside the state folder/);
  });

  it('takes over the salt an older version kept at <state>/privacy/salt: its records still screen, and it leaves the state folder', async () => {
    // GIVEN records made with a salt kept beside them, as before the key moved out
    const world = await privacyWorld({ salt_env: 'OLD_SALT' });
    const salt = 'an-old-salt-0123456789abcdef';
    await world.run('2024-06-01T00:00:00Z');
    await forgetPerson('bob', { ...world.privacy, env: { OLD_SALT: salt } }, 'cli');
    await world.blobs.put('privacy/salt', salt);
    const upgraded = { ...world.privacy, settings: { ...world.privacy.settings, salt_env: undefined } };

    // WHEN the lists are loaded with a key file that does not exist yet
    const lists = await loadPrivacyLists(upgraded);

    // THEN bob is still recognised, the salt is the key file's key, and privacy/salt is gone
    expect(lists.forgottenRecord('bob')).toBeDefined();
    expect(await readFile(join(world.root, 'config', 'privacy-key'), 'utf8')).toBe(`${salt}\n`);
    expect(await world.blobs.get('privacy/salt')).toBeUndefined();
  });

  it('keeps an older salt as a second key when a key file exists: old and new records both screen', async () => {
    const world = await privacyWorld({ salt_env: 'OLD_SALT' });
    const salt = 'an-old-salt-0123456789abcdef';
    await forgetPerson('bob', { ...world.privacy, env: { OLD_SALT: salt } }, 'cli');
    await world.blobs.put('privacy/salt', salt);
    const file = join(world.root, 'config', 'privacy-key');
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, 'the-current-key-0123456789\n');
    const upgraded = { ...world.privacy, settings: { ...world.privacy.settings, salt_env: undefined } };

    await forgetPerson('ann', upgraded, 'cli');
    const lists = await loadPrivacyLists(upgraded);

    expect(await readFile(file, 'utf8')).toBe(`the-current-key-0123456789\n${salt}\n`);
    expect(lists.forgottenRecord('bob')).toBeDefined();
    expect(lists.forgottenRecord('ann')).toBeDefined();
    expect((await erasureRecords(upgraded)).map((r) => r.person_hashes[0])).toContain(personHash('the-current-key-0123456789', 'ann'));
    expect(await world.blobs.get('privacy/salt')).toBeUndefined();
  });

  it('comes from the configured environment variable, which must be set', async () => {
    const world = await privacyWorld({ salt_env: 'COHORTS_TEST_SALT' });
    await expect(forgetPerson('bob', world.privacy, 'cli')).rejects.toThrow(PrivacyConfigError);
    const withSalt = { ...world.privacy, env: { COHORTS_TEST_SALT: 'a-secret-of-enough-length' } };
    await forgetPerson('bob', withSalt, 'cli');
    expect((await erasureRecords(withSalt))[0]?.person_hashes).toEqual([personHash('a-secret-of-enough-length', 'bob')]);
    expect(await filesUnder(world.root)).not.toContainEqual(expect.stringMatching(/privacy-key$/));
  });

  it('must stay the one the records were made with, or the run stops rather than let people back in', async () => {
    const world = await privacyWorld({ salt_env: 'COHORTS_TEST_SALT' });
    await forgetPerson('bob', { ...world.privacy, env: { COHORTS_TEST_SALT: 'the-first-secret-salt' } }, 'cli');
    await expect(loadPrivacyLists({ ...world.privacy, env: { COHORTS_TEST_SALT: 'another-secret-salt!' } })).rejects.toThrow(
      /^1 erasure record was made with a privacy key that is not configured now/,
    );
    await forgetPerson('ann', { ...world.privacy, env: { COHORTS_TEST_SALT: 'the-first-secret-salt' } }, 'cli');
    await expect(loadPrivacyLists({ ...world.privacy, env: { COHORTS_TEST_SALT: 'another-secret-salt!' } })).rejects.toThrow(
      /^2 erasure records were made with/,
    );
  });
});
