import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cohorts, projectFolders, tempDir } from '../support/cli.ts';
import { WARN_ONLY_CONFIG_YAML } from '../support/config.ts';

const CASE = join(import.meta.dirname, '..', 'cases', 'lang_sequences');
const AS_OF = '2024-06-01T00:00:00Z';

describe('sequences through the command line (the lang_sequences case)', () => {
  let root: string;
  let folders: string[];

  beforeAll(async () => {
    root = await tempDir();
    await cp(join(CASE, 'lake'), join(root, 'data'), { recursive: true });
    await cp(join(CASE, 'definitions'), join(root, 'definitions'), { recursive: true });
    await writeFile(join(root, 'cohorts.config.yaml'), WARN_ONLY_CONFIG_YAML);
    folders = projectFolders(root);
  });

  it('verifies the tiled refresh against the full one, then plans a changed max_gap as a readable rule diff', async () => {
    // GIVEN a refresh in verify mode (the tiled query, sequences read raw, must give the full query's members)
    const run = await cohorts('run', '--verify', '--as-of', AS_OF, ...folders);
    expect(run.code).toBe(0);
    expect(run.stderr.join('\n')).toContain('8 published, 0 held');
    // WHEN max_gap moves from 1h to 2h
    const file = join(root, 'definitions', 'seq_view_buy_1h.yaml');
    await writeFile(file, (await readFile(file, 'utf8')).replace('max_gap: 1h', 'max_gap: 2h'));
    const plan = await cohorts('plan', '--as-of', AS_OF, ...folders);
    const text = plan.stdout.join('\n');
    // THEN the diff shows the sequence's line, and the members move by hand: s09 (1h + 1 ms), s11 (2h), s19 (2h - 1 µs) join
    expect(text).toMatch(/~ seq_view_buy_1h \([a-z]+, changed: rule\)/);
    expect(text).toContain(
      [
        '    rule:',
        '        sequence:',
        '          - {event: viewed}',
        '          - {event: bought}',
        '      - max_gap: 1h',
        '      + max_gap: 2h',
      ].join('\n'),
    );
    expect(text).toMatch(/seq_view_buy_1h[\s\S]*members on the current data: 3 -> 6 members \(\+3 -0/);
  });
});
