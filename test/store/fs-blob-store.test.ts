import { readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlobExistsError, ConcurrentUpdateError } from '../../shared/ports.ts';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import { tempDir } from '../support/cli.ts';

describe('the filesystem blob store', () => {
  it('creates an object once and refuses to rewrite it', async () => {
    const store = new FsBlobStore(await tempDir());
    await store.create('a/b.json', 'first');
    await expect(store.create('a/b.json', 'second')).rejects.toBeInstanceOf(BlobExistsError);
    expect(Buffer.from((await store.get('a/b.json')) as Uint8Array).toString()).toBe('first');
  });

  it('replaces an object with put and leaves no temporary files behind', async () => {
    const root = await tempDir();
    const store = new FsBlobStore(root);
    await store.put('x/current.json', '{"version":1}');
    await store.put('x/current.json', '{"version":2}');
    expect(Buffer.from((await store.get('x/current.json')) as Uint8Array).toString()).toBe('{"version":2}');
    expect(await readdir(join(root, 'x'))).toEqual(['current.json']);
  });

  it('lists keys under a prefix, sorted, and returns undefined for a missing key', async () => {
    const store = new FsBlobStore(await tempDir());
    await store.put('s/cohort=a/version=2/m.json', '2');
    await store.put('s/cohort=a/version=1/m.json', '1');
    await store.put('s/cohort=ab/version=1/m.json', '1');
    expect(await store.list('s/cohort=a/')).toEqual(['s/cohort=a/version=1/m.json', 's/cohort=a/version=2/m.json']);
    expect(await store.list('nothing/')).toEqual([]);
    expect(await store.get('s/missing.json')).toBeUndefined();
  });

  it('refuses keys that escape its folder', async () => {
    const store = new FsBlobStore(await tempDir());
    await expect(store.put('../outside.json', 'x')).rejects.toThrow('escapes');
  });

  describe('compare-and-swap', () => {
    const text = (bytes: Uint8Array | undefined) => Buffer.from(bytes as Uint8Array).toString();

    it('creates an object only while it is missing and replaces it only while it is as read', async () => {
      // Prepare
      const store = new FsBlobStore(await tempDir());
      const key = 'snapshots/cohort=a/current.json';
      // Act
      const first = await store.putIfUnchanged(key, '{"version":1}', undefined);
      const creatingAgain = await store.putIfUnchanged(key, '{"version":9}', undefined).catch((e: unknown) => e);
      const seen = await store.getWithEtag(key);
      const second = await store.putIfUnchanged(key, '{"version":2}', seen?.etag);
      const stale = await store.putIfUnchanged(key, '{"version":3}', first).catch((e: unknown) => e);
      // Assess
      expect(creatingAgain).toBeInstanceOf(ConcurrentUpdateError);
      expect(stale).toMatchObject({ name: 'ConcurrentUpdateError' });
      expect(seen).toEqual({ body: new TextEncoder().encode('{"version":1}'), etag: first });
      expect(second).not.toBe(first);
      expect(await store.getWithEtag(key)).toMatchObject({ etag: second });
      expect(text(await store.get(key))).toBe('{"version":2}');
    });

    it('lets exactly one of many writers racing from the same read replace the object', async () => {
      // Prepare: eight stores over one folder, as eight processes would be.
      const root = await tempDir();
      const key = 'snapshots/cohort=a/current.json';
      await new FsBlobStore(root).put(key, '{"version":1}');
      const writers = Array.from({ length: 8 }, () => new FsBlobStore(root));
      const seen = await Promise.all(writers.map((w) => w.getWithEtag(key)));
      // Act
      const results = await Promise.allSettled(writers.map((w, i) => w.putIfUnchanged(key, `{"version":${i + 2}}`, seen[i]?.etag)));
      // Assess
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConcurrentUpdateError);
      expect(text(await writers[0]?.get(key))).toBe(`{"version":${(won[0] as number) + 2}}`);
      expect(await readdir(join(root, 'snapshots', 'cohort=a'))).toEqual(['current.json']);
    });

    it('waits for no one while another writer holds the lock, and breaks a lock a dead writer left', async () => {
      // Prepare
      const root = await tempDir();
      const store = new FsBlobStore(root);
      const key = 'c/current.json';
      await store.put(key, '{"version":1}');
      const lock = join(root, 'c', '.tmp-current.json.lock');
      const seen = await store.getWithEtag(key);
      // Act & Assess: a fresh lock is a writer in flight.
      await writeFile(lock, '');
      await expect(store.putIfUnchanged(key, '{"version":2}', seen?.etag)).rejects.toThrow(/another writer is replacing c\/current.json/);
      // A lock a minute old was left by a writer that died.
      const aMinuteAgo = new Date(Date.now() - 60_000);
      await utimes(lock, aMinuteAgo, aMinuteAgo);
      await store.putIfUnchanged(key, '{"version":2}', seen?.etag);
      expect(text(await store.get(key))).toBe('{"version":2}');
      expect(await store.list('c/')).toEqual(['c/current.json']);
    });
  });
});
