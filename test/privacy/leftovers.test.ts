import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringLiteral } from '../../shared/compiler/sql-text.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { forgetPerson } from '../../shared/privacy/erase.ts';
import { erasureRecords } from '../../shared/privacy/erasure-records.ts';
import { privacyCheck } from '../../shared/privacy/privacy-check.ts';
import { filesHoldingAnywhere, privacyWorld } from './support.ts';

/** What crashed refreshes leave: a started version (no manifest; the next number) and `.tmp-` files, each holding bob. */
async function leaveCrashLeftovers(world: Awaited<ReturnType<typeof privacyWorld>>, members: Buffer) {
  const started = await world.store.nextVersion('active_users');
  const files = {
    startedHoldout: join(world.state, `snapshots/cohort=active_users/version=${started}/holdout.parquet`),
    startedMembers: join(world.state, `snapshots/cohort=active_users/version=${started}/members.parquet`),
    temp: join(world.state, 'snapshots/cohort=all_users/version=1/.tmp-4b1e0c2a'),
    truncatedTemp: join(world.state, 'exports/cohort=active_users/version=1/.tmp-9f00aa11'),
  };
  for (const [name, file] of Object.entries(files)) {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, name === 'truncatedTemp' ? members.subarray(0, members.length >> 1) : members);
  }
  return files;
}

const membersOfFirstVersion = (world: Awaited<ReturnType<typeof privacyWorld>>) =>
  readFile(join(world.state, 'snapshots/cohort=active_users/version=1/members.parquet'));

describe('erasure and the privacy check reach every file of the state folder', () => {
  it('forget rewrites a started version without the person and deletes .tmp- files: no byte holds them after', async () => {
    // GIVEN a refresh, then crashes that left a started version 2 and .tmp- files holding bob
    const world = await privacyWorld();
    await world.run('2024-06-01T00:00:00Z');
    const files = await leaveCrashLeftovers(world, await membersOfFirstVersion(world));
    expect(await filesHoldingAnywhere(world.state, 'bob')).toContain(files.startedHoldout);

    // WHEN bob is forgotten
    const outcome = await forgetPerson('bob', world.privacy, 'cli');

    // THEN no file holds him, in raw bytes or decoded; the started version's lists are kept without him,
    // and the event log without his Cohort Entered lines
    expect(await filesHoldingAnywhere(world.state, 'bob')).toEqual([]);
    expect(outcome.swept).toEqual({
      rewritten: [join(world.state, 'events.jsonl'), files.startedHoldout, files.startedMembers].sort(),
      deleted: [files.temp, files.truncatedTemp].sort(),
      left: [],
      unreadable: [],
      leftKeys: [],
    });
    expect(await world.engine.decode(new Uint8Array(await readFile(files.startedHoldout)))).toEqual(['ann', 'dora@example.com']);
    expect(await world.store.versions('active_users')).toEqual([1, 3]);
    expect((await erasureRecords(world.privacy))[0]?.rewritten).toMatchObject({ other_files: 3, leftovers_deleted: 2, files_left: 0 });
  });

  it('the check finds a forgotten person in crash leftovers, and names a file it cannot read', async () => {
    // GIVEN bob forgotten, then leftovers holding him (as a forget before this sweep left them) and an unreadable file
    const world = await privacyWorld();
    await world.run('2024-06-01T00:00:00Z');
    const before = await membersOfFirstVersion(world);
    await forgetPerson('bob', world.privacy, 'cli');
    const files = await leaveCrashLeftovers(world, before);
    const junk = join(world.state, 'snapshots/cohort=all_users/blob.bin');
    await writeFile(junk, Buffer.from([0x00, 0xff, 0xfe, 0x01, 0x80]));

    // WHEN the full check runs
    const report = await privacyCheck(world.privacy);

    // THEN each leftover holding him is a finding (the truncated one as unreadable), and so is the junk file
    const byKind = (kind: string) =>
      report.findings
        .filter((f) => f.kind === kind)
        .map((f) => f.location)
        .sort();
    expect(byKind('forgotten')).toEqual([files.startedHoldout, files.startedMembers, files.temp].sort());
    expect(byKind('unreadable')).toEqual([junk, files.truncatedTemp].sort());
    expect(report.files).toBeGreaterThan(4);
  });

  it('forget names the files it cannot rewrite, and the check finds the person there', async () => {
    // GIVEN a note and a Parquet file of several columns holding bob among the exports
    const world = await privacyWorld();
    await world.run('2024-06-01T00:00:00Z');
    const note = join(world.state, 'exports/notes.json');
    const scores = join(world.state, 'exports/scores.parquet');
    await mkdir(dirname(note), { recursive: true });
    await writeFile(note, JSON.stringify({ note: 'call bob tomorrow' }));
    const connection = await openDuckDb();
    await connection.run(
      `COPY (SELECT 'bob' AS person_id, 3 AS score UNION ALL SELECT 'ann', 4) TO ${stringLiteral(scores)} (FORMAT parquet)`,
    );
    connection.closeSync();

    // WHEN bob is forgotten
    const outcome = await forgetPerson('bob', world.privacy, 'cli');

    // THEN both are named as left (nothing of them is lost), and the check agrees
    expect(outcome.swept.left).toEqual([note, scores].sort());
    expect(await filesHoldingAnywhere(world.state, 'bob')).toEqual([note, scores].sort());
    const report = await privacyCheck(world.privacy);
    expect(
      report.findings
        .filter((f) => f.kind === 'forgotten')
        .map((f) => f.location)
        .sort(),
    ).toEqual([note, scores].sort());
    // A refresh's check (its own versions only) reads them again from the record, until they are clean.
    const afterRun = async () => (await privacyCheck(world.privacy, { versions: [] })).findings.map((f) => f.location).sort();
    expect(await afterRun()).toEqual([note, scores].sort());
    await writeFile(note, JSON.stringify({ note: 'call him tomorrow' }));
    expect(await afterRun()).toEqual([scores]);
  });

  it('forget removes the person from the suppression list', async () => {
    const world = await privacyWorld();
    await world.blobs.put('privacy/suppressed.txt', '# opt-outs\nBob\ncid\n');
    await world.run('2024-06-01T00:00:00Z');
    await forgetPerson('Bob', world.privacy, 'cli');
    expect(await readFile(join(world.state, 'privacy/suppressed.txt'), 'utf8')).toBe('# opt-outs\ncid\n');
    expect((await privacyCheck(world.privacy)).findings).toEqual([]);
  });
});
