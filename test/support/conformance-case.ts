import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import { SnapshotStore } from '../../shared/store/snapshot-store.ts';
import { cohorts, tempDir } from './cli.ts';

const isDeprecated = (file: string) => /^deprecated:/m.test(readFileSync(file, 'utf8'));

/**
 * Registers, in the calling `describe`, the checks of one conformance case, public or the project's (the
 * README's "Using a case"): one refresh of all cohorts on an empty state, then every expected
 * member list matched exactly and no version for a deprecated cohort. `lake` gives the lake
 * folder to refresh from (default: the case's own `lake/`); it runs once, before the refresh.
 */
export function checkConformanceCase(dir: string, lake: (caseDir: string) => Promise<string> = async (dir) => join(dir, 'lake')): void {
  const asOf = (JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as { as_of: string }).as_of;
  const definitionFiles = readdirSync(join(dir, 'definitions')).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'));
  const expected = readdirSync(join(dir, 'expected')).map((f) => f.replace(/\.txt$/, ''));
  let state: string;
  let store: SnapshotStore;

  beforeAll(async () => {
    // GIVEN an empty state folder WHEN one refresh of all cohorts runs at the case's as-of
    const data = await lake(dir);
    state = await tempDir();
    const result = await cohorts('run', '--data', data, '--definitions', join(dir, 'definitions'), '--as-of', asOf, '--state', state);
    expect(result.stderr.join('\n')).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    const connection = await openDuckDb();
    store = new SnapshotStore(new FsBlobStore(state), new DuckDbEngine(connection, data));
  });

  it.each(expected)('computes exactly the expected members of %s', async (id) => {
    const versions = await store.versions(id);
    expect(versions).toEqual([1]);
    const members = await store.members(id, 1);
    const text = members.map((m) => `${m}\n`).join('');
    expect(text).toBe(readFileSync(join(dir, 'expected', `${id}.txt`), 'utf8'));
  });

  const deprecated = definitionFiles.filter((f) => isDeprecated(join(dir, 'definitions', f)));
  if (deprecated.length > 0) {
    it.each(deprecated)('writes no version for the deprecated %s', (file) => {
      const id = file.replace(/\.ya?ml$/, '');
      expect(existsSync(join(state, 'snapshots', `cohort=${id}`))).toBe(false);
    });
  }
}
