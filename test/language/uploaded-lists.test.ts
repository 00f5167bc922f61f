import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCatalog, loadCatalog } from '../../shared/language/catalog.ts';
import { leaves } from '../../shared/language/condition-leaves.ts';
import { formatProblem } from '../../shared/language/errors.ts';
import { parseDefinition } from '../../shared/language/parse-definition.ts';
import { parseListFile } from '../../shared/language/uploaded-lists.ts';
import { tempDir } from '../support/cli.ts';

const definition = (rule: string, id = 'list_user') => `id: ${id}\nname: n\nowner: o\npurpose: p\ncadence: daily\nrule:\n${rule}`;

/** A definitions folder with the given definition files and list files. */
async function folder(definitions: Record<string, string>, lists: Record<string, string>): Promise<string> {
  const dir = await tempDir();
  await mkdir(join(dir, 'lists'));
  for (const [name, text] of Object.entries(definitions)) await writeFile(join(dir, name), text);
  for (const [name, text] of Object.entries(lists)) await writeFile(join(dir, 'lists', name), text);
  return dir;
}

describe('the list leaf', () => {
  it('refuses a list name that is no identifier at its line and column', () => {
    const result = parseDefinition(definition('  all:\n    - list: VIP-list\n'), 'd.yaml');
    expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([
      expect.stringMatching(/^d\.yaml:8:13: rule\.all\[0\]\.list must be a list name matching/),
    ]);
  });

  it('refuses a list no file holds at the leaf, naming the file to upload', async () => {
    const dir = await folder(
      { 'list_user.yaml': definition('  any:\n    - event: login\n    - not: {list: vips}\n') },
      { 'other.csv': 'a\n' },
    );
    const catalog = await loadCatalog(dir);
    expect(catalog.problems.map(formatProblem)).toEqual([
      `${join(dir, 'list_user.yaml')}:9:19: list "vips" does not exist: upload it as lists/vips.csv beside the definitions`,
    ]);
  });

  it('refuses a list when the folder has no lists/ at all', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'list_user.yaml'), definition('  list: vips\n'));
    expect((await loadCatalog(dir)).problems.map((p) => p.message)).toEqual([expect.stringMatching(/^list "vips" does not exist/)]);
  });

  it('gives each list leaf the content of the list read, without changing the definition hash', async () => {
    const text = definition('  list: vips\n');
    const dir = await folder({ 'list_user.yaml': text }, { 'vips.csv': ' B@X.com\r\na\n\na\n' });
    const catalog = await loadCatalog(dir);
    expect(catalog.problems).toEqual([]);
    const [cohort] = catalog.definitions;
    expect(leaves(cohort?.rule ?? { kind: 'all', items: [] })).toEqual([
      expect.objectContaining({ kind: 'list', name: 'vips', content: { hash: expect.any(String), entries: 2 } }),
    ]);
    expect(cohort?.hash).toBe(buildCatalog([{ path: join(dir, 'list_user.yaml'), text }]).definitions[0]?.hash);
  });
});

describe('a list file', () => {
  it('is one normalized person_id per line: trimmed, e-mails lower-cased, blank lines and repeats ignored', () => {
    const { list, problems } = parseListFile('lists/vips.csv', '  ANN@EXAMPLE.COM \r\n\tu-1\n\n   \nU-2\r\nann@example.com\n');
    expect(problems).toEqual([]);
    expect(list?.ids).toEqual(['U-2', 'ann@example.com', 'u-1']);
    // The hash is of the normalized entries, unique, sorted by UTF-8 bytes, each ending in a newline.
    expect(list?.hash).toBe(createHash('sha256').update('U-2\nann@example.com\nu-1\n').digest('hex'));
    expect(parseListFile('lists/vips.csv', 'u-1\nann@example.com\nU-2')).toEqual({
      list: { ...list, path: 'lists/vips.csv' },
      problems: [],
    });
  });

  it('changes its hash when an entry is added or removed', () => {
    const hash = (text: string) => parseListFile('lists/vips.csv', text).list?.hash;
    expect(hash('a\nb\n')).not.toBe(hash('a\n'));
    expect(hash('a\nb\n')).not.toBe(hash('a\nb\nc\n'));
  });

  it('names the line of every problem: other columns, quoting, a header, NUL, \\N', () => {
    const { list, problems } = parseListFile('lists/vips.csv', 'person_id\nann,1\n"bob"\nc\u0000d\n\\N\nok\n');
    expect(list).toBeUndefined();
    expect(problems.map(formatProblem)).toEqual([
      'lists/vips.csv:1:1: line is a header: a list has none, only one person_id per line',
      'lists/vips.csv:2:1: line holds a comma: a list has one person_id per line, written bare (no other columns, no quoting)',
      'lists/vips.csv:3:1: line holds a double quote: a list has one person_id per line, written bare (no other columns, no quoting)',
      'lists/vips.csv:4:1: line holds the NUL character, which no engine can hold',
      'lists/vips.csv:5:1: line is \\N, which the engines read as no value',
    ]);
  });

  it('refuses a file whose name is no list name', async () => {
    expect(parseListFile('lists/VIP list.csv', 'a\n').problems.map(formatProblem)).toEqual([
      'lists/VIP list.csv: a list file is named <name>.csv with the name matching ^[a-z][a-z0-9_]{2,62}$, got "VIP list.csv"',
    ]);
    const dir = await folder({}, { 'notes.txt': 'a\n' });
    expect((await loadCatalog(dir)).problems.map((p) => p.message)).toEqual([expect.stringMatching(/^a list file is named <name>\.csv/)]);
  });
});
