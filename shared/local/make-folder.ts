import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The file-system calls makeFolder uses (replaceable in tests). */
export interface FolderCalls {
  mkdir(path: string, options?: { recursive: boolean }): Promise<unknown>;
  stat(path: string): Promise<{ isDirectory(): boolean }>;
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
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw (await notAFolder(path, calls)) ?? error;
    if (code !== 'ENOENT') throw error;
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

/**
 * Node's mkdir says EEXIST (the path is a file) or ENOTDIR (a level above it is) and names the path
 * asked for: this names the file in the way instead (ENOTDIR), or gives undefined when none is found.
 */
async function notAFolder(path: string, calls: FolderCalls): Promise<Error | undefined> {
  for (let level = path; ; level = dirname(level)) {
    const entry = await calls.stat(level).catch(() => undefined);
    if (entry !== undefined && !entry.isDirectory()) {
      const making = level === path ? '' : ` (making ${path})`;
      return Object.assign(new Error(`${level} is a file, not a folder${making}: name a folder, or move the file`), { code: 'ENOTDIR' });
    }
    if (dirname(level) === level) return undefined;
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
