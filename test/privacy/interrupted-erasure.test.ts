import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { forgetPerson } from '../../shared/privacy/erase.ts';
import { privacyCheck } from '../../shared/privacy/privacy-check.ts';
import type { Manifest } from '../../shared/store/manifest.ts';
import { SnapshotStore } from '../../shared/store/snapshot-store.ts';
import { experimentWorld, privacyWorld } from './support.ts';

// A `cohorts forget` killed part-way (kill -9, a Lambda timeout) is finished by forgetting the
// person again: found by the reliability scripts' kill-at-op preload run on `forget`.
describe('a deletion request interrupted by a crash and made again', () => {
  it('corrects the manifest of a version whose members were rewritten before the crash', async () => {
    // GIVEN active_users v1 = ann, bob, dora, and a forget of bob that died after writing v1's
    // members without him and before its manifest (size 3, entered 3 left as they were)
    const world = await privacyWorld();
    await world.run('2024-06-01T00:00:00Z');
    await world.blobs.put(
      'snapshots/cohort=active_users/version=1/members.parquet',
      await world.engine.encode(['ann', 'dora@example.com']),
    );

    // WHEN bob is forgotten again
    await forgetPerson('bob', world.privacy, 'cli');

    // THEN v1's manifest counts the members its file holds
    expect(await world.store.members('active_users', 1)).toEqual(['ann', 'dora@example.com']);
    const v1 = (await world.store.manifest('active_users', 1)) as Manifest;
    expect(v1).toMatchObject({ size: 2, entered: 2, exited: 0, erasure: { removed: 1 } });
  });

  it('rewrites the holdout the crash left holding the person, and the split in the manifest', async () => {
    // GIVEN an experiment cohort, and a forget of a held-out member that died after the version's
    // members and before its holdout and manifest
    const world = await experimentWorld();
    await world.run('2024-06-01T00:00:00Z');
    const [held] = (await world.store.holdout('all_users', 1)) as string[];
    const members = await world.store.members('all_users', 1);
    await world.blobs.put(
      'snapshots/cohort=all_users/version=1/members.parquet',
      await world.engine.encode(members.filter((id) => id !== held)),
    );

    // WHEN they are forgotten again
    await forgetPerson(held as string, world.privacy, 'cli');

    // THEN v1's holdout no longer holds them and its split adds up to its members
    const holdout = (await world.store.holdout('all_users', 1)) as string[];
    const v1 = (await world.store.manifest('all_users', 1)) as Manifest;
    expect(holdout).not.toContain(held);
    expect(v1.size).toBe(members.length - 1);
    expect(v1.experiment).toMatchObject({ holdout_size: holdout.length, treatment_size: v1.size - holdout.length });
  });

  it('leaves the counts of an erasure version the crash kept from becoming current as they are', async () => {
    // GIVEN active_users v1 = ann, bob, dora and a forget of bob that died after writing v2 (v1
    // without him) and before moving current.json to it
    const world = await privacyWorld();
    await world.run('2024-06-01T00:00:00Z');
    const publish = SnapshotStore.prototype.publish;
    let crashed = false;
    world.store.publish = async function (this: SnapshotStore, cohort, version) {
      if (!crashed) {
        crashed = true;
        throw new Error('killed');
      }
      return publish.call(this, cohort, version);
    };
    await expect(forgetPerson('bob', world.privacy, 'cli')).rejects.toThrow('killed');

    // WHEN bob is forgotten again
    await forgetPerson('bob', world.privacy, 'cli');

    // THEN v2, which never held bob, still says +0 -0 against v1 (not -1: bob did not exit in it)
    const v2 = (await world.store.manifest('active_users', 2)) as Manifest;
    expect(v2).toMatchObject({ trigger: 'erasure', size: 2, entered: 0, exited: 0 });
    expect(v2.erasure).toBeUndefined();
  });

  it('corrects the counts of latest.json when the crash came after the export files and before it', async () => {
    // GIVEN active_users v1 = ann, bob, dora exported, and a forget of bob that rewrote the export
    // files and died before latest.json (its counts still 3, 3, 0)
    const world = await privacyWorld();
    await world.run('2024-06-01T00:00:00Z');
    const latest = join(world.state, 'exports', 'cohort=active_users', 'latest.json');
    const before = await readFile(latest, 'utf8');
    expect(JSON.parse(before)).toMatchObject({ version: 1, size: 3, entered: 3 });
    await forgetPerson('bob', world.privacy, 'cli');
    await writeFile(latest, before);

    // WHEN bob is forgotten again
    await forgetPerson('bob', world.privacy, 'cli');

    // THEN latest.json counts the rows its version's lists hold
    expect(JSON.parse(await readFile(latest, 'utf8'))).toMatchObject({ version: 1, size: 2, entered: 2, exited: 0 });
  });
  it('is named by the privacy check until the person is forgotten again', async () => {
    // GIVEN a forget of bob that died part-way: its record written, never completed
    const world = await privacyWorld();
    await world.run('2024-06-01T00:00:00Z');
    const outcome = await forgetPerson('bob', world.privacy, 'cli');
    const [key] = (await world.blobs.list('privacy/erasures/')).filter((k) => k.endsWith('.json'));
    const record = JSON.parse(Buffer.from((await world.blobs.get(key as string)) as Uint8Array).toString('utf8'));
    await world.blobs.put(key as string, JSON.stringify({ ...record, completed_at: null }));

    // THEN the full check names it and what to do; a refresh's check (scoped to its versions) does not
    const findings = (await privacyCheck(world.privacy)).findings;
    expect(findings.map((f) => f.kind)).toEqual(['incomplete_erasure']);
    expect(findings[0]?.message).toBe(
      `${world.blobs.locate(key as string)}: the erasure of record ${outcome.record}, requested ${record.requested_at}, never completed (stopped part-way): forget the person again (\`cohorts forget ID\`) to finish it`,
    );
    expect((await privacyCheck(world.privacy, { versions: [] })).findings).toEqual([]);

    // WHEN bob is forgotten again, THEN the check is clean
    await forgetPerson('bob', world.privacy, 'cli');
    expect((await privacyCheck(world.privacy)).findings).toEqual([]);
  });
});
