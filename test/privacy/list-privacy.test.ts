import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { SnapshotStore } from '../../shared/store/snapshot-store.ts';
import { cohorts, tempDir } from '../support/cli.ts';
import { WARN_ONLY_CONFIG_YAML } from '../support/config.ts';

const CASE = join(import.meta.dirname, '..', 'cases', 'lang_lists');
const AS_OF = '2024-03-01T00:00:00Z';

describe('an uploaded list is personal data', () => {
  let root: string;
  let folders: string[];
  const vip = () => readFile(join(root, 'definitions', 'lists', 'vip.csv'), 'utf8');

  beforeEach(async () => {
    // GIVEN the lang_lists case in a working folder, refreshed once
    root = await tempDir('cohorts-list-privacy-');
    await cp(CASE, root, { recursive: true });
    await writeFile(join(root, 'cohorts.config.yaml'), `${WARN_ONLY_CONFIG_YAML}privacy:\n  suppression_list: privacy/suppressed.txt\n`);
    folders = [
      '--data',
      join(root, 'lake'),
      '--definitions',
      join(root, 'definitions'),
      '--state',
      join(root, 'state'),
      '--config',
      join(root, 'cohorts.config.yaml'),
      '--privacy-key',
      join(root, 'privacy-key'),
    ];
    expect((await cohorts('run', '--as-of', AS_OF, ...folders)).code).toBe(0);
  });

  it('forget removes the person from every list (padded, upper-cased lines too) and nothing else', async () => {
    const before = await vip();
    // WHEN ann is forgotten, written as the person id is (normalized)
    const result = await cohorts('forget', 'ann@example.com', ...folders);
    expect(result.code).toBe(0);
    expect(result.stdout).toEqual([expect.stringMatching(/, 1 uploaded list rewritten$/)]);
    // THEN the line "  ANN@EXAMPLE.COM  \r\n" is gone and every other byte of the file is kept
    expect(await vip()).toBe(before.replace('  ANN@EXAMPLE.COM  \r\n', ''));
    expect(await readFile(join(root, 'definitions', 'lists', 'blocked.csv'), 'utf8')).toBe('dave@example.com\ncarol\n');
    // AND the privacy check finds her nowhere
    expect((await cohorts('privacy-check', ...folders)).code).toBe(0);
  });

  it('privacy-check finds a forgotten person left in (or put back into) a list, naming the file, never the id', async () => {
    expect((await cohorts('forget', 'dave@example.com', ...folders)).code).toBe(0);
    // WHEN the list is uploaded again with dave, spelled otherwise
    await writeFile(join(root, 'definitions', 'lists', 'blocked.csv'), 'carol\n DAVE@Example.com\n');
    const result = await cohorts('privacy-check', ...folders);
    // THEN the check fails on the list
    expect(result.code).toBe(1);
    const file = join(root, 'definitions', 'lists', 'blocked.csv');
    expect(result.stdout).toEqual([
      expect.stringMatching(
        new RegExp(
          `^forgotten: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} holds a forgotten person \\(erasure record [0-9a-f]{12}\\)$`,
        ),
      ),
    ]);
    expect(result.stdout.join('\n')).not.toMatch(/dave/i);
  });

  it('suppression applies to list members as to any member', async () => {
    // WHEN bob, on the vip list, opts out and the cohorts are refreshed
    await cp(join(root, 'definitions', 'lists', 'vip.csv'), join(root, 'vip-copy.csv'));
    await mkdir(join(root, 'state', 'privacy'), { recursive: true });
    await writeFile(join(root, 'state', 'privacy', 'suppressed.txt'), 'BOB@example.com\n');
    expect((await cohorts('run', '--as-of', AS_OF, '--force', ...folders)).code).toBe(0);
    // THEN the new versions leave him out, and the list itself is untouched (suppression is not erasure)
    const store = new SnapshotStore(new FsBlobStore(join(root, 'state')), new DuckDbEngine(await openDuckDb(), join(root, 'lake')));
    expect(await store.members('vip_members', 2)).toEqual(['ann@example.com', 'u-100']);
    expect(await store.members('vip_buyers', 2)).toEqual(['u-100']);
    expect(await vip()).toBe(await readFile(join(root, 'vip-copy.csv'), 'utf8'));
  });
});
