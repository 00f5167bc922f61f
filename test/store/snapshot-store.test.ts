import { describe, expect, it } from 'vitest';
import { openDuckDb } from '../../shared/duckdb/open.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { FsBlobStore } from '../../shared/store/fs-blob-store.ts';
import type { Manifest } from '../../shared/store/manifest.ts';
import { SnapshotStore, VersionNotFoundError } from '../../shared/store/snapshot-store.ts';
import { tempDir } from '../support/cli.ts';

const manifest = (version: number): Manifest =>
  ({ cohort: 'vip', version, as_of: '2024-06-01T00:00:00.000Z', status: 'published', size: 2 }) as unknown as Manifest;

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
});
