import { execFile } from 'node:child_process';
import { basename, dirname, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function git(cwd: string, ...args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await run('git', args, { cwd, timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch {
    return undefined;
  }
}

/** What git says about the files of one folder, read once. */
interface FolderAuthors {
  /** File name -> the author of its last commit, for files committed as they are. */
  readonly committed: ReadonlyMap<string, string>;
  /** The git user of the working copy (for uncommitted files); undefined outside git. */
  readonly user: string | undefined;
}

/**
 * Who wrote each definition file, from git: the author of its last commit when the file is
 * committed as it is, else (new or edited) the git user of the working copy; undefined outside
 * git. Each folder costs four `git` processes, once, however many files it holds (a per-file
 * lookup made a first run of 500 definitions time out in Plan).
 */
export function gitAuthors(): (path: string) => Promise<string | undefined> {
  const folders = new Map<string, Promise<FolderAuthors>>();
  return async (path) => {
    const folder = dirname(resolve(path));
    if (!folders.has(folder)) folders.set(folder, readFolder(folder));
    const { committed, user } = await (folders.get(folder) as Promise<FolderAuthors>);
    return committed.get(basename(path)) ?? user;
  };
}

async function readFolder(cwd: string): Promise<FolderAuthors> {
  const [tracked, dirty, log, name, email] = await Promise.all([
    git(cwd, 'ls-files', '-z', '--', '.'),
    git(cwd, 'diff', '--name-only', '-z', '--relative', 'HEAD', '--', '.'),
    // Newest first: the first commit that names a file is its last one.
    git(cwd, 'log', '--format=%x00%x01%an <%ae>', '--name-only', '-z', '--relative', '--', '.'),
    git(cwd, 'config', 'user.name'),
    git(cwd, 'config', 'user.email'),
  ]);
  const here = (file: string) => !file.includes('/');
  const clean = new Set((tracked ?? '').split('\0').filter((f) => f !== '' && here(f)));
  for (const file of (dirty ?? '').split('\0')) clean.delete(file);
  const committed = new Map<string, string>();
  let author: string | undefined;
  for (const token of (log ?? '').split('\0')) {
    const field = token.replace(/^\n/, '');
    if (field.startsWith('\x01')) author = field.slice(1);
    else if (field !== '' && author !== undefined && clean.has(field) && !committed.has(field)) committed.set(field, author);
  }
  const user = name?.trim() ? (email?.trim() ? `${name.trim()} <${email.trim()}>` : name.trim()) : undefined;
  return { committed, user };
}
