import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { type BlobStore, ConcurrentUpdateError } from '../../shared/ports.ts';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import type { Manifest } from '../../shared/store/manifest.ts';
import { ParquetMembersCodec } from '../../shared/store/parquet-members-codec.ts';
import { CurrentMovedError, SnapshotStore, VersionNotFoundError } from '../../shared/store/snapshot-store.ts';
import { tempDir } from '../support/cli.ts';

const manifest = (version: number, previous: number | null = null, status = 'published'): Manifest =>
  ({ cohort: 'vip', version, as_of: '2024-06-01T00:00:00.000Z', status, size: 2, previous_version: previous }) as unknown as Manifest;

/** A blob store whose next `lose` compare-and-swaps fail as if another writer had just written. */
function losingRaces(inner: BlobStore, lose: number): BlobStore & { attempts: number } {
  const store = Object.create(inner) as BlobStore & { attempts: number };
  store.attempts = 0;
  store.putIfUnchanged = async (key, body, etag) => {
    store.attempts++;
    if (store.attempts <= lose) throw new ConcurrentUpdateError(`${key} changed since it was read`);
    return inner.putIfUnchanged(key, body, etag);
  };
  return store;
}

describe('the snapshot store', () => {
  const open = async () => {
    const root = await tempDir();
    const codec = new DuckDbEngine(await openDuckDb(), root);
    return { root, blobs: new FsBlobStore(root), store: new SnapshotStore(new FsBlobStore(root), codec), codec };
  };

  it('writes members as Parquet with one person_id column, unique and in byte order', async () => {
    const { store, root } = await open();
    await store.write(manifest(1), ['b', 'a', 'Z', 'é', '😀', 'ﬀ', 'a']);
    const connection = await openDuckDb();
    const reader = await connection.runAndReadAll(
      `SELECT * FROM read_parquet('${root}/snapshots/cohort=vip/version=1/members.parquet', hive_partitioning = false)`,
    );
    expect(reader.columnNames()).toEqual(['person_id']);
    // UTF-8 byte order: 'ﬀ' (EF AC 80) sorts before '😀' (F0 9F 98 80), unlike UTF-16 order.
    expect(reader.getRows().map((r) => r[0])).toEqual(['Z', 'a', 'b', 'é', 'ﬀ', '😀']);
  });

  it('moves current.json only to a complete version', async () => {
    const { store } = await open();
    await expect(store.publish('vip', 1)).rejects.toBeInstanceOf(VersionNotFoundError);
    await store.write(manifest(1), ['a']);
    await store.publish('vip', 1);
    expect(await store.current('vip')).toBe(1);
  });

  it('never rewrites a version', async () => {
    const { store } = await open();
    await store.write(manifest(1), ['a']);
    await expect(store.write(manifest(1), ['b'])).rejects.toThrow('never rewritten');
    expect(await store.members('vip', 1)).toEqual(['a']);
  });

  it('numbers the next version past versions a crash left incomplete', async () => {
    const { store, blobs } = await open();
    await store.write(manifest(1), ['a']);
    await blobs.create('snapshots/cohort=vip/version=2/members.parquet', 'partial');
    expect(await store.versions('vip')).toEqual([1]);
    expect(await store.nextVersion('vip')).toBe(3);
  });

  describe('publishing by compare-and-swap', () => {
    const world = async () => {
      const root = await tempDir();
      const codec = new ParquetMembersCodec();
      const store = new SnapshotStore(new FsBlobStore(root), codec);
      await store.write(manifest(1), ['a']);
      await store.publish('vip', 1);
      return { root, codec, store };
    };

    it('lets exactly one of two runs that computed against the same current move it', async () => {
      // Prepare: two runs (two stores over one folder) each wrote a version against version 1.
      const { root, codec, store } = await world();
      const [runA, runB] = [new SnapshotStore(new FsBlobStore(root), codec), new SnapshotStore(new FsBlobStore(root), codec)];
      await runA.write(manifest(2, 1), ['a', 'b']);
      await runB.write(manifest(3, 1), ['a', 'c']);
      // Act
      const results = await Promise.allSettled([runA.publish('vip', 2), runB.publish('vip', 3)]);
      // Assess
      const won = results.findIndex((r) => r.status === 'fulfilled');
      const lost = results[1 - won];
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(lost?.status === 'rejected' && lost.reason).toBeInstanceOf(CurrentMovedError);
      expect(await store.current('vip')).toBe(won + 2);
    });

    it('never moves current backwards, and publishing the current version again changes nothing', async () => {
      // Prepare
      const { store } = await world();
      await store.write(manifest(2, 1), ['b']);
      await store.publish('vip', 2);
      // Act
      const backwards = store.publish('vip', 1);
      const again = store.publish('vip', 2);
      // Assess
      await expect(backwards).rejects.toThrow(
        new CurrentMovedError('cohort "vip" is now at version 2, not none as version 1 was computed against; current stays at 2'),
      );
      await expect(again).resolves.toBeUndefined();
      expect(await store.current('vip')).toBe(2);
      // Version 1 was current before version 2: it did not lose a race.
      expect(await store.lostPublishes('vip')).toEqual(new Map());
    });

    it('records a version that lost the race beside the version folders, once, and leaves its manifest as written', async () => {
      // Prepare: run A wrote version 2 against version 1; run B wrote version 3 against 1 and published first.
      const { root, codec, store } = await world();
      const runB = new SnapshotStore(new FsBlobStore(root), codec);
      await store.write({ ...manifest(2, 1), lineage: { run_id: 'run-a' } } as unknown as Manifest, ['a', 'b']);
      await runB.write(manifest(3, 1), ['a', 'c']);
      await runB.publish('vip', 3);
      const manifestFile = join(root, 'snapshots/cohort=vip/version=2/manifest.json');
      const written = await readFile(manifestFile, 'utf8');
      // Act: run A publishes, and its step is retried
      await expect(store.publish('vip', 2)).rejects.toBeInstanceOf(CurrentMovedError);
      await expect(store.publish('vip', 2)).rejects.toBeInstanceOf(CurrentMovedError);
      // Assess
      expect(await readFile(manifestFile, 'utf8')).toBe(written);
      expect([...(await store.lostPublishes('vip')).entries()]).toEqual([
        [
          2,
          {
            cohort: 'vip',
            version: 2,
            computed_against: 1,
            current_version: 3,
            run_id: 'run-a',
            at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          },
        ],
      ]);
      expect(await readdir(join(root, 'snapshots/cohort=vip/lost-publish'))).toEqual(['version=2.json']);
      expect((await store.publishedManifests('vip')).map((m) => m.version)).toEqual([1, 3]);
      // The record is no version: versions and their numbering are as before.
      expect(await store.versions('vip')).toEqual([1, 2, 3]);
      expect(await store.nextVersion('vip')).toBe(4);
      expect(await store.current('vip')).toBe(3);
    });

    it('never publishes a held version', async () => {
      const { store } = await world();
      await store.write(manifest(2, 1, 'held'), ['b']);

      await expect(store.publish('vip', 2)).rejects.toThrow('version 2 is held, not published');
      expect(await store.current('vip')).toBe(1);
    });

    it('re-reads and swaps again after a lost race, and gives up with ConcurrentUpdateError after five', async () => {
      // Prepare
      const { root, codec } = await world();
      const twice = losingRaces(new FsBlobStore(root), 2);
      const always = losingRaces(new FsBlobStore(root), Number.POSITIVE_INFINITY);
      const store = new SnapshotStore(twice, codec);
      await store.write(manifest(2, 1), ['b']);
      // Act
      await store.publish('vip', 2);
      await store.write(manifest(3, 2), ['c']);
      const contended = new SnapshotStore(always, codec).publish('vip', 3);
      // Assess
      expect(twice.attempts).toBe(3);
      await expect(contended).rejects.toBeInstanceOf(ConcurrentUpdateError);
      expect(always.attempts).toBe(5);
      expect(await store.current('vip')).toBe(2);
    });
  });
});
