import { execFileSync } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { gitAuthors } from '../../shared/local/git-author.ts';
import { tempDir } from '../support/cli.ts';

const FILES = 300;

/** A `git` in front of the real one that counts its invocations in a file. */
async function countingGit(): Promise<string> {
  const bin = await tempDir('cohorts-git-');
  const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  await writeFile(join(bin, 'git'), `#!/bin/sh\necho x >> "${join(bin, 'calls')}"\nexec "${real}" "$@"\n`);
  await chmod(join(bin, 'git'), 0o755);
  await writeFile(join(bin, 'calls'), '');
  return bin;
}

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, stdio: 'pipe' });

describe('the authors of definition files (D5)', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('are read from git once per folder, not per file: 300 new definitions cost a handful of git processes', async () => {
    // Prepare: a repository with one committed file by ann, one edited and one new file, and 297 more committed by bob
    const repo = await tempDir('cohorts-repo-');
    git(repo, 'init', '-q');
    git(repo, 'config', 'user.name', 'Cy Local');
    git(repo, 'config', 'user.email', 'cy@example.com');
    await writeFile(join(repo, 'kept.yaml'), 'id: kept\n');
    await writeFile(join(repo, 'edited.yaml'), 'id: edited\n');
    git(repo, 'add', '.');
    git(repo, '-c', 'user.name=Ann', '-c', 'user.email=ann@example.com', 'commit', '-qm', 'first');
    for (let i = 0; i < FILES - 3; i++) await writeFile(join(repo, `c${i}.yaml`), `id: c${i}\n`);
    git(repo, 'add', '.');
    git(repo, '-c', 'user.name=Bob', '-c', 'user.email=bob@example.com', 'commit', '-qm', 'more');
    await writeFile(join(repo, 'edited.yaml'), 'id: edited\nname: changed\n');
    await writeFile(join(repo, 'new.yaml'), 'id: new\n');
    const bin = await countingGit();
    vi.stubEnv('PATH', `${bin}${delimiter}${process.env.PATH}`);

    // Act: every file's author, asked at once as the Plan step does
    const authorOf = gitAuthors();
    const names = ['kept.yaml', 'edited.yaml', 'new.yaml', ...Array.from({ length: FILES - 3 }, (_, i) => `c${i}.yaml`)];
    const authors = await Promise.all(names.map((name) => authorOf(join(repo, name))));

    // Assess: right authors, and the folder was read once
    expect(authors.slice(0, 4)).toEqual([
      'Ann <ann@example.com>',
      'Cy Local <cy@example.com>',
      'Cy Local <cy@example.com>',
      'Bob <bob@example.com>',
    ]);
    expect(new Set(authors.slice(3))).toEqual(new Set(['Bob <bob@example.com>']));
    const calls = (await readFile(join(bin, 'calls'), 'utf8')).trim().split('\n').length;
    expect(calls).toBeLessThanOrEqual(5);
  });

  it('are unknown outside git', async () => {
    const folder = await tempDir('cohorts-nogit-');
    vi.stubEnv('GIT_CONFIG_GLOBAL', join(folder, 'none'));
    vi.stubEnv('GIT_CONFIG_NOSYSTEM', '1');
    vi.stubEnv('GIT_CEILING_DIRECTORIES', folder);

    expect(await gitAuthors()(join(folder, 'a.yaml'))).toBeUndefined();
  });
});
