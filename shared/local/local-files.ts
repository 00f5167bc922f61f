import { readdir, unlink } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { FsBlobStore } from './fs-blob-store.ts';
import type { SweptFiles } from '../ports.ts';

/**
 * The state folder as erasure and the privacy check sweep it: every file, the `.tmp-*` files the
 * blob store's own listing hides included, and deletion of crash leftovers.
 */
export function localFiles(blobs: FsBlobStore): SweptFiles {
  const root = blobs.locate('');
  return {
    async list(prefix) {
      let entries;
      try {
        entries = await readdir(root, { withFileTypes: true, recursive: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      return entries
        .filter((entry) => entry.isFile())
        .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'))
        .filter((key) => key.startsWith(prefix))
        .sort();
    },
    get: (key) => blobs.get(key),
    put: (key, body) => blobs.put(key, body),
    async remove(key) {
      await unlink(blobs.locate(key)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    },
    locate: (key) => blobs.locate(key),
  };
}
