import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The folders the README's Layout names: each line's first word when it is a path ending in `/`. */
function layoutFolders(readme: string): string[] {
  const section = readme.slice(readme.indexOf('## Layout\n'));
  const block = section.slice(section.indexOf('```\n') + 4, section.indexOf('\n```', section.indexOf('```\n') + 4));
  return block
    .split('\n')
    .map((line) => /^\s*(\.?[a-z][a-z0-9-]*\/(?:[a-z0-9-]+\/)*)(?:\s|$)/.exec(line)?.[1])
    .filter((folder): folder is string => folder !== undefined);
}

/** Every folder holding a file git tracks or would track (ignored files left out), as `a/b/`. */
function treeFolders(): string[] {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  const folders = new Set<string>();
  for (const file of files.split('\n').filter(Boolean)) {
    const parts = file.split('/').slice(0, -1);
    for (let depth = 1; depth <= parts.length; depth++) folders.add(`${parts.slice(0, depth).join('/')}/`);
  }
  return [...folders].sort();
}

/** Whether the Layout covers a folder: named itself, a test folder mirroring a named room of shared/, or a case of test/cases/. */
function covered(folder: string, named: ReadonlySet<string>): boolean {
  if (named.has(folder)) return true;
  // One conformance case each, described by test/cases/README.md rather than here.
  if (/^test\/cases\/[^/]+\/$/.test(folder)) return named.has('test/cases/');
  const room = /^test\/([a-z0-9-]+)\/$/.exec(folder)?.[1];
  return room !== undefined && named.has(`shared/${room}/`);
}

describe("The README's Layout", () => {
  const named = new Set(layoutFolders(readFileSync(`${ROOT}README.md`, 'utf8')));

  it('names every folder of the tree (a test folder may instead mirror a named room of shared/)', () => {
    // GIVEN the folders of the tree, three levels deep
    const folders = treeFolders().filter((folder) => folder.split('/').length <= 4);

    // THEN each is named in the Layout
    expect(folders.filter((folder) => !covered(folder, named))).toEqual([]);
  });

  it('names no folder the tree does not have', () => {
    const folders = new Set(treeFolders());

    expect([...named].filter((folder) => !folders.has(folder))).toEqual([]);
  });

  it('reads the folder of each line and nothing else', () => {
    const lines = [
      'shared/          the engine',
      '  ground (the vocabulary)',
      '  shared/local/  the laptop',
      '  shared/ports.ts  ports',
      'bench/',
    ];
    const readme = ['## Layout', '', 'Text naming test/ outside the block.', '```', ...lines, '```', '', '```', 'later/', '```'];

    expect(layoutFolders(`${readme.join('\n')}\n`)).toEqual(['shared/', 'shared/local/', 'bench/']);
  });
});
