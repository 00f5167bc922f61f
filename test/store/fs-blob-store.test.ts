import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlobExistsError } from '../../shared/ports.ts';
import { FsBlobStore } from '../../shared/store/fs-blob-store.ts';
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
});
