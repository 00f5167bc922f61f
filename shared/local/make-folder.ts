import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The file-system calls makeFolder uses (replaceable in tests). */
export interface FolderCalls {
  mkdir(path: string, options?: { recursive: boolean }): Promise<unknown>;
  stat(path: string): Promise<unknown>;
}

const NODE_CALLS: FolderCalls = { mkdir, stat };

/**
 * `mkdir -p`. Node's recursive mkdir reports ENOENT ("no such file or directory") when a folder
 * cannot be made because the file system is read-only or the parent is not writable, which reads
 * as a missing folder; then the missing levels are made one at a time, so the error is the real
 * one (EROFS, EACCES) naming the folder that could not be made.
 */
export async function makeFolder(path: string, calls: FolderCalls = NODE_CALLS): Promise<void> {
  try {
    await calls.mkdir(path, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const missing: string[] = [];
    for (let folder = path; !(await exists(folder, calls)); folder = dirname(folder)) {
      missing.unshift(folder);
      if (dirname(folder) === folder) break;
    }
    for (const folder of missing) {
      await calls.mkdir(folder).catch((inner: NodeJS.ErrnoException) => {
        if (inner.code !== 'EEXIST') throw inner;
      });
    }
  }
}

async function exists(path: string, calls: FolderCalls): Promise<boolean> {
  try {
    await calls.stat(path);
    return true;
  } catch {
    return false;
  }
}
