import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAsOf } from '../../shared/cli/io.ts';
import { describeError, MAX_ERROR_LINE_CHARS } from '../../shared/cli/main.ts';
import { type FolderCalls, makeFolder } from '../../shared/local/make-folder.ts';
import { cohorts, tempDir } from '../support/cli.ts';

describe('command-line values that are not what they look like (D13)', () => {
  it.each(['2026-02-30T00:00:00Z', '2026-02-29', '2025-04-31T12:00:00+02:00', '2026-06-31T00:00:00Z'])(
    'refuses --as-of %s, a day that does not exist, instead of rolling it over',
    (text) => {
      expect(() => parseAsOf(text)).toThrow(/^--as-of must be a day that exists \(\d{4}-\d{2} has no day \d{2}\), got "/);
    },
  );

  it('refuses months that do not exist', () => {
    expect(() => parseAsOf('2026-13-01T00:00:00Z')).toThrow(/^--as-of must be/);
    expect(() => parseAsOf('2026-00-10T00:00:00Z')).toThrow(/^--as-of must be/);
  });

  it('keeps real days, leap days included', () => {
    expect(parseAsOf('2024-02-29T00:00:00Z').toISOString()).toBe('2024-02-29T00:00:00.000Z');
    expect(parseAsOf('2026-12-31T23:59:59Z').toISOString()).toBe('2026-12-31T23:59:59.000Z');
  });

  it('names the option of an instant that is not one: sample-data --end', async () => {
    const result = await cohorts('sample-data', '--end', 'not-a-date', '--data', join(await tempDir(), 'data'));
    expect(result.stderr).toEqual(['--end must be an ISO-8601 instant such as 2024-06-01T00:00:00Z, got "not-a-date"']);
  });

  it('a --state that is a file, or inside one, is named as a file, not as a failed mkdir', async () => {
    const file = join(await tempDir(), 'state.txt');
    await writeFile(file, 'not a folder');
    const asOf = ['--as-of', '2026-01-01T00:00:00Z', '--definitions', 'definitions'];
    expect((await cohorts('run', '--state', file, ...asOf)).stderr).toEqual([
      `${file} is a file, not a folder: name a folder, or move the file`,
    ]);
    const inside = join(file, 'state');
    expect((await cohorts('run', '--state', inside, ...asOf)).stderr).toEqual([
      `${file} is a file, not a folder (making ${inside}): name a folder, or move the file`,
    ]);
  });

  it('names an unknown option and the one it is a typo of, not the advice of node about positionals', async () => {
    const typo = await cohorts('run', '--ass-of', '2026-01-01T00:00:00Z');
    expect(typo.stderr).toEqual(['unknown option "--ass-of" (did you mean --as-of?); cohorts --help lists the options']);
    expect((await cohorts('members', 'x', '--definitons', 'd')).stderr).toEqual([
      'unknown option "--definitons" (did you mean --definitions?); cohorts --help lists the options',
    ]);
    expect((await cohorts('run', '-x')).stderr).toEqual(['unknown option "-x"; cohorts --help lists the options']);
  });

  it('never echoes unbounded input: a 10,000-character cohort id is cut in the one error line', async () => {
    const id = 'a'.repeat(10_000);
    const result = await cohorts('run', '--cohort', id, '--definitions', 'definitions', '--as-of', '2026-01-01T00:00:00Z');
    expect(result.code).toBe(2);
    expect(result.stderr).toEqual([`no cohort "${'a'.repeat(77)}…" in the definitions`]);
    const long = describeError(new Error(`key escapes the store: ${'x'.repeat(100_000)}`));
    expect(long).toHaveLength(MAX_ERROR_LINE_CHARS);
    expect(long.endsWith('…')).toBe(true);
  });
});

describe('making a folder on a read-only file system', () => {
  /** Node's recursive mkdir on a read-only file system: ENOENT for the first missing level; a single mkdir: EROFS. */
  const readOnly = (existing: readonly string[]): FolderCalls & { made: string[] } => {
    const made: string[] = [];
    const error = (code: string, path: string) => Object.assign(new Error(`${code}: mkdir '${path}'`), { code });
    return {
      made,
      mkdir: async (path, options) => {
        if (existing.includes(path)) return;
        const first = path
          .split('/')
          .slice(0, existing.at(-1)!.split('/').length + 1)
          .join('/');
        throw options?.recursive ? error('ENOENT', first) : error('EROFS', path);
      },
      stat: async (path) => {
        if (!existing.includes(path)) throw error('ENOENT', path);
        return { isDirectory: () => true };
      },
    };
  };

  it('reports EROFS for the first folder it cannot make, not a misleading ENOENT', async () => {
    const calls = readOnly(['/', '/state']);
    await expect(makeFolder('/state/privacy/requests', calls)).rejects.toMatchObject({
      code: 'EROFS',
      message: "EROFS: mkdir '/state/privacy'",
    });
  });
});
