import { describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import type { BlobStore } from '../../shared/ports.ts';
import type { Manifest } from '../../shared/store/manifest.ts';
import { ParquetMembersCodec } from '../../shared/store/parquet-members-codec.ts';
import { SnapshotStore } from '../../shared/store/snapshot-store.ts';
import type { IndexWarning } from '../../shared/store/version-index.ts';
import { tempDir } from '../support/cli.ts';

const manifest = (version: number, previous: number | null = null): Manifest =>
  ({
    cohort: 'vip',
    version,
    as_of: `2024-06-0${version}T00:00:00.000Z`,
    status: 'published',
    size: 1,
    previous_version: previous,
  }) as unknown as Manifest;
const INDEX = 'snapshots/cohort=vip/index.json';

/** A blob store whose writes of the index fail while `failing` is set, as with a missing permission. */
function failingIndex(inner: BlobStore): BlobStore & { failing: boolean } {
  const store = Object.create(inner) as BlobStore & { failing: boolean };
  store.failing = true;
  store.put = async (key, body) => {
    if (store.failing && key === INDEX) throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    return inner.put(key, body);
  };
  return store;
}

describe("a cohort's index of versions", () => {
  const open = async () => {
    const blobs = failingIndex(new FsBlobStore(await tempDir()));
    const warnings: Parameters<IndexWarning>[] = [];
    const store = new SnapshotStore(blobs, new ParquetMembersCodec(), { warn: (...args) => warnings.push(args) });
    return { blobs, store, warnings };
  };

  it('reports a failed write of the index, naming the cohort, key and error, and the refresh reads on', async () => {
    const { blobs, store, warnings } = await open();
    await store.write(manifest(1), ['a']);
    await store.publish('vip', 1);

    // No index yet: the refresh's full scan rebuilds it, whose write fails; the refresh still gets its answer.
    expect(await store.nextVersion('vip')).toBe(2);
    expect(warnings).toEqual([
      [
        expect.stringContaining('index of versions could not be written'),
        { cohort: 'vip', key: INDEX, error: 'AccessDenied: Access Denied' },
      ],
    ]);
    expect(await blobs.get(INDEX)).toBeUndefined();
  });

  it('publishes a version whose index write failed, and reports it', async () => {
    const { blobs, store, warnings } = await open();
    blobs.failing = false;
    await store.write(manifest(1), ['a']);
    await store.publish('vip', 1);
    expect(await store.nextVersion('vip')).toBe(2);
    expect(warnings).toEqual([]);

    blobs.failing = true;
    await store.write(manifest(2, 1), ['b']);
    await store.publish('vip', 2);

    expect(await store.current('vip')).toBe(2);
    expect(await store.members('vip', 2)).toEqual(['b']);
    expect(warnings.map(([, details]) => details)).toEqual([{ cohort: 'vip', key: INDEX, error: 'AccessDenied: Access Denied' }]);
    // The stale index only makes the next reader probe: it still finds version 2.
    expect(await store.newestStarted('vip')).toBe(2);
  });

  it('is never written by a read: a cohort with no versions, or versions and no index, stays as it was', async () => {
    const { blobs, store, warnings } = await open();
    blobs.failing = false;
    const keys = async () => (await blobs.list('snapshots/')).sort();

    // A cohort that has none (a typo'd id): reading its versions writes nothing.
    expect(await store.newestStarted('typo')).toBe(0);
    expect((await store.manifestsNewestFirst('typo').next()).done).toBe(true);
    expect(await store.current('typo')).toBeUndefined();
    expect(await keys()).toEqual([]);

    // A cohort with a version and no index: read from a full scan, the index left to the next refresh.
    await store.write(manifest(1), ['a']);
    await store.publish('vip', 1);
    const before = await keys();
    expect(before).not.toContain(INDEX);
    expect(await store.newestStarted('vip')).toBe(1);
    expect((await store.manifestsNewestFirst('vip').next()).value?.version).toBe(1);
    expect(await keys()).toEqual(before);
    expect(await store.nextVersion('vip')).toBe(2);
    expect(await keys()).toEqual([...before, INDEX].sort());
    expect(warnings).toEqual([]);
  });
});
