import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../shared/language/catalog.ts';
import { formatProblem } from '../../shared/language/errors.ts';
import { tempDir } from '../support/cli.ts';

const cohort = (rule: string) => `id: reader\nname: n\nowner: o\npurpose: p\ncadence: daily\nrule:\n${rule}`;
const action = 'id: signup\nowner: o\npurpose: p\nevent: signup\n';

/** A definitions folder with one cohort and, for each sub-folder, its files or a plain file in its place. */
async function definitionsFolder(subFolders: Record<string, Record<string, string> | string>): Promise<string> {
  const dir = await tempDir();
  await writeFile(join(dir, 'reader.yaml'), cohort('  all:\n    - action: signup\n    - list: vips\n'));
  for (const [name, content] of Object.entries(subFolders)) {
    if (typeof content === 'string') {
      await writeFile(join(dir, name), content);
      continue;
    }
    await mkdir(join(dir, name));
    for (const [file, text] of Object.entries(content)) await writeFile(join(dir, name, file), text);
  }
  return dir;
}

describe('the sub-folders of the definitions folder (actions/, lists/)', () => {
  it('are read together: the actions and lists the rule names', async () => {
    const dir = await definitionsFolder({ actions: { 'signup.yaml': action }, lists: { 'vips.csv': 'ann\n' } });
    const catalog = await loadCatalog(dir);
    expect(catalog.problems).toEqual([]);
    expect(catalog.definitions.map((d) => d.id)).toEqual(['reader']);
    expect([...(catalog.lists?.keys() ?? [])]).toEqual(['vips']);
  });

  it.each([
    ['actions', 'the actions folder', { lists: { 'vips.csv': 'ann\n' } }],
    ['lists', 'the lists folder', { actions: { 'signup.yaml': action } }],
  ])('refuse %s/ that cannot be read as one problem at its path, the same way for both', async (name, what, others) => {
    const dir = await definitionsFolder({ ...others, [name]: 'not a folder\n' });
    const catalog = await loadCatalog(dir);
    expect(catalog.definitions).toEqual([]);
    expect(catalog.problems.map(formatProblem)).toContain(`${join(dir, name)}: is a file, not ${what}: rename or move it`);
  });

  it.each([
    ['actions', 'signup.yaml', 'a definition file', { lists: { 'vips.csv': 'ann\n' } }],
    ['lists', 'vips.csv', 'a list file', { actions: { 'signup.yaml': action } }],
  ])('refuse a file of %s/ that cannot be read at its path', async (name, file, what, others) => {
    const dir = await definitionsFolder(others);
    await mkdir(join(dir, name, file), { recursive: true });
    const catalog = await loadCatalog(dir);
    expect(catalog.problems.map(formatProblem)).toContain(`${join(dir, name, file)}: is a folder, not ${what}`);
  });
});
