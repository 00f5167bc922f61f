import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../shared/language/catalog.ts';
import { forgetPerson } from '../../shared/privacy/erase.ts';
import { exportScreen } from '../../shared/privacy/export-screen.ts';
import { personalPropertyProblems } from '../../shared/privacy/personal-properties.ts';
import { privacyCheck } from '../../shared/privacy/privacy-check.ts';
import type { Manifest } from '../../shared/store/manifest.ts';
import { header, writeDefinitions } from '../support/lake.ts';
import { privacyWorld, textFilesHolding } from './support.ts';

describe('the suppression list', () => {
  it('leaves opted-out people out of every version written and counts them in lineage, never naming them', async () => {
    // GIVEN Dora opted out (listed as she signed up, in another case)
    const world = await privacyWorld();
    await world.blobs.put('privacy/suppressed.txt', '# opt-outs\nperson_id\nDora@Example.com\n');

    // WHEN the cohorts refresh
    const summary = await world.run('2024-06-01T00:00:00Z');

    // THEN she is in no version, lineage counts her, and no manifest names her
    expect(await world.store.members('active_users', 1)).toEqual(['ann', 'bob']);
    expect(await world.store.members('all_users', 1)).toEqual(['ann', 'bob', 'cid']);
    const manifest = (await world.store.manifest('active_users', 1)) as Manifest;
    expect(manifest.lineage.privacy).toEqual({ suppressed: 1, forgotten: 0 });
    expect(manifest.size).toBe(2);
    expect(await textFilesHolding(join(world.state, 'snapshots'), 'dora')).toEqual([]);
    expect(await world.findingsOf(summary)).toEqual([]);
  });

  it('is read from the configured key', async () => {
    const world = await privacyWorld({ suppression_list: 'optouts/list.txt' });
    await world.blobs.put('optouts/list.txt', 'ann\n');
    await world.run('2024-06-01T00:00:00Z');
    expect(await world.store.members('active_users', 1)).toEqual(['bob', 'dora@example.com']);
  });

  it('is applied to exports: every list loses the people', async () => {
    const world = await privacyWorld();
    await world.blobs.put('privacy/suppressed.txt', 'bob\n');
    const screened = await exportScreen(world.privacy)({
      cohort: 'active_users',
      version: 1,
      members: ['ann', 'bob'],
      entered: ['bob'],
      exited: ['cid'],
    });
    expect(screened).toEqual({ cohort: 'active_users', version: 1, members: ['ann'], entered: [], exited: ['cid'] });
    const untouched = { members: ['ann'], entered: [], exited: [] };
    expect(await exportScreen(world.privacy)(untouched)).toBe(untouched);
  });
});

describe('the privacy check', () => {
  it('passes a clean state and reports what it looked at', async () => {
    const world = await privacyWorld();
    await world.run('2024-06-01T00:00:00Z');
    await world.blobs.put('exports/cohort=active_users/version=1/members.csv', 'person_id\nann\nbob\n');
    const report = await privacyCheck(world.privacy);
    // What the run exported of both cohorts (members, entered, exited, CSV and Parquet), the file
    // above in place of one of them; other files: current.json, latest.json and announced.json of
    // each cohort, its index of versions and its version's as-of entry, events.jsonl and alerts.jsonl.
    expect(report).toEqual({ versions: 2, exports: 12, files: 12, findings: [] });
  });

  it('finds a forgotten person in an export and names the erasure record, never the id', async () => {
    const world = await privacyWorld();
    await world.run('2024-06-01T00:00:00Z');
    const outcome = await forgetPerson('bob', world.privacy, 'cli');
    // An export written by something that ignored the erasure
    await world.blobs.put('exports/cohort=active_users/version=1/members.csv', 'person_id\nann\nbob\n');
    const report = await privacyCheck(world.privacy);
    expect(report.findings).toEqual([
      {
        kind: 'forgotten',
        location: world.blobs.locate('exports/cohort=active_users/version=1/members.csv'),
        count: 1,
        message: expect.stringContaining(`erasure record ${outcome.record}`),
      },
    ]);
    expect(JSON.stringify(report)).not.toContain('bob');
  });

  it('finds a forgotten id in the text of a manifest, such as a literal in its lineage query', async () => {
    const world = await privacyWorld();
    await writeDefinitions(world.definitions, {
      'bob_only.yaml': `${header('bob_only')}rule:\n  event: login\n  where: {referrer: bob}\n`,
    });
    await world.run('2024-06-01T00:00:00Z');
    await forgetPerson('bob', world.privacy, 'cli');
    const report = await privacyCheck(world.privacy);
    // The one query of a run holds every cohort's literals, so every manifest of that run (and the
    // versions erasure wrote from them) carries it: 2 + 2 + 1.
    expect(report.findings).toHaveLength(5);
    expect(report.findings.every((f) => f.kind === 'forgotten' && f.location.endsWith('manifest.json'))).toBe(true);
  });

  it('finds suppressed people still in a current version, and passes once the cohort is refreshed', async () => {
    const world = await privacyWorld();
    await world.run('2024-06-01T00:00:00Z');
    await world.blobs.put('privacy/suppressed.txt', 'ann\n');
    const report = await privacyCheck(world.privacy);
    // ann is in the current version of both cohorts, and in members and entered of what the run exported of them.
    const where = (cohort: string, file: string) => ['suppressed', 1, `${cohort}/version=1/${file}`];
    expect(report.findings.map((f) => [f.kind, f.count, f.location.replace(/^.*cohort=/, '')])).toEqual([
      where('active_users', 'members.parquet'),
      where('all_users', 'members.parquet'),
      ...['active_users', 'all_users'].flatMap((cohort) =>
        ['entered.csv', 'entered.parquet', 'members.csv', 'members.parquet'].map((file) => where(cohort, file)),
      ),
    ]);
    expect(report.findings[0]?.message).toContain('--force');
    const forced = await world.run('2024-06-01T00:00:00Z', { force: true });
    expect(await world.findingsOf(forced)).toEqual([]);
    // Older versions keep the members they were published with: suppression is not erasure.
    expect(await world.store.members('active_users', 1)).toContain('ann');
  });

  it('runs in every refresh over what the run wrote and what is current', async () => {
    const world = await privacyWorld();
    await world.run('2024-06-01T00:00:00Z');
    await world.blobs.put('exports/cohort=all_users/version=1/members.csv', 'person_id\nann\n');
    await world.blobs.put('privacy/suppressed.txt', 'ann\n');
    const summary = await world.run('2024-06-06T12:00:00Z');
    expect(await world.findingsOf(summary)).toEqual([]);
    await world.blobs.put('exports/cohort=all_users/version=2/members.csv', 'person_id\nann\n');
    const after = await privacyCheck(world.privacy, { versions: [] });
    expect(after.findings.map((f) => [f.kind, f.location.endsWith('version=2/members.csv')])).toEqual([['suppressed', true]]);
  });

  it('finds an export column named as a personal property', async () => {
    const world = await privacyWorld({ personal_properties: ['email'] });
    await world.blobs.put('exports/cohort=active_users/version=1/contacts.csv', 'person_id,email\nann,ann@example.com\n');
    const report = await privacyCheck(world.privacy);
    expect(report.findings.map((f) => f.kind)).toEqual(['personal_property']);
  });
});

describe('personal properties in definitions', () => {
  const definitions = {
    'by_email.yaml': `${header('by_email')}rule:\n  event: login\n  where:\n    email: {in: [ann@example.com]}\n`,
    'has_email.yaml': `${header('has_email')}rule:\n  event: login\n  where:\n    email: {exists: true}\n`,
    'latest_phone.yaml': `${header('latest_phone')}rule:\n  latest: {event: login, property: phone}\n  in: ['+441234']\n`,
    'distinct_emails.yaml': `${header('distinct_emails')}rule:\n  event: login\n  distinct: {of: email, gte: 2}\n`,
  };

  it('may be tested for existence and counted, never compared with a value', async () => {
    const world = await privacyWorld({ personal_properties: ['email', 'phone'] });
    await writeDefinitions(world.definitions, definitions);
    const catalog = await loadCatalog(world.definitions);
    const texts = new Map<string, string>();
    for (const d of catalog.definitions) texts.set(d.path, await readFile(d.path, 'utf8'));
    const problems = personalPropertyProblems(catalog.definitions, ['email', 'phone'], (path) => texts.get(path));
    expect(problems.map((p) => [p.file.split('/').at(-1), p.position])).toEqual([
      ['by_email.yaml', { line: 9, col: 5 }],
      ['latest_phone.yaml', { line: 7, col: 36 }],
    ]);
    expect(problems[0]?.message).toContain('"email" is personal data');
  });

  it('stop a refresh whose catalog compares one with a value, before anything is written', async () => {
    const world = await privacyWorld({ personal_properties: ['email'] });
    await writeDefinitions(world.definitions, { 'by_email.yaml': definitions['by_email.yaml'] });
    await expect(world.run('2024-06-01T00:00:00Z')).rejects.toMatchObject({ step: 'Plan', error: 'InvalidDefinitionsError' });
    expect(await world.store.cohorts()).toEqual([]);
  });
});
