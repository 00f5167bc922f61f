import { execFile } from 'node:child_process';
import { basename, dirname } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function git(cwd: string, ...args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await run('git', args, { cwd, timeout: 5000 });
    return stdout.trim();
  } catch {
    return undefined;
  }
}

/**
 * Who wrote a definition file, from git: the author of its last commit when the file is committed
 * as it is, else (an uncommitted edit) the git user of the working copy. Undefined outside git.
 */
export async function gitAuthor(path: string): Promise<string | undefined> {
  const cwd = dirname(path);
  const file = basename(path);
  if ((await git(cwd, 'ls-files', '--error-unmatch', '--', file)) !== undefined && (await git(cwd, 'status', '--porcelain', '--', file)) === '') {
    const last = await git(cwd, 'log', '-1', '--format=%an <%ae>', '--', file);
    if (last) return last;
  }
  const name = await git(cwd, 'config', 'user.name');
  if (!name) return undefined;
  const email = await git(cwd, 'config', 'user.email');
  return email ? `${name} <${email}>` : name;
}
