import { createHash } from 'node:crypto';
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileRefresh } from '../../shared/compiler/compile-refresh.ts';
import { duckdbDialect } from '../../shared/compiler/duckdb-dialect.ts';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { SnapshotStore } from '../../shared/store/snapshot-store.ts';
import { cohorts, tempDir } from '../support/cli.ts';

const CASE = join(import.meta.dirname, '..', 'cases', 'lang_lists');
const AS_OF = '2024-03-01T00:00:00Z';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('the lineage of a cohort that reads an uploaded list', () => {
  it('records each list read (through references too) by content hash, and a changed list makes a new version', async () => {
    // GIVEN the lang_lists case copied to a working folder, refreshed once
    const root = await tempDir();
    await cp(CASE, root, { recursive: true });
    const state = join(root, 'state');
    const run = () =>
      cohorts('run', '--data', join(root, 'lake'), '--definitions', join(root, 'definitions'), '--as-of', AS_OF, '--state', state);
    expect((await run()).code).toBe(0);
    const store = new SnapshotStore(new FsBlobStore(state), new DuckDbEngine(await openDuckDb(), join(root, 'lake')));
    // THEN the manifest names the list, the hash of its normalized sorted entries and their count
    const vip = { name: 'vip', hash: sha256('CRM-7\nU-200\nann@example.com\nbob@example.com\nnobody@example.com\nu-100\n'), entries: 6 };
    const blocked = { name: 'blocked', hash: sha256('carol\ndave@example.com\n'), entries: 2 };
    expect((await store.manifest('vip_members', 1))?.lineage.lists).toEqual([vip]);
    expect((await store.manifest('blocked_or_vip', 1))?.lineage.lists).toEqual([blocked, vip]);
    expect((await store.manifest('vip_buyers', 1))?.lineage.lists).toEqual([vip]);

    // WHEN one entry leaves the list and the same as-of is refreshed again
    await writeFile(join(root, 'definitions', 'lists', 'vip.csv'), 'ann@example.com\nu-100\n');
    expect((await run()).code).toBe(0);
    // THEN the cohorts reading it get a new version with the new hash; the others do not
    expect(await store.versions('vip_members')).toEqual([1, 2]);
    expect((await store.manifest('vip_members', 2))?.lineage.lists).toEqual([
      { name: 'vip', hash: sha256('ann@example.com\nu-100\n'), entries: 2 },
    ]);
    expect(await store.members('vip_members', 2)).toEqual(['ann@example.com', 'u-100']);
    expect(await store.versions('blocked_members')).toEqual([1]);
  });

  it('is compiled only where the engine reads lists', () => {
    const built = buildCatalog([
      { path: 'd/vips.yaml', text: 'id: vips\nname: n\nowner: o\npurpose: p\ncadence: daily\nrule:\n  list: vip\n' },
    ]);
    const request = { cohorts: built.definitions, asOf: new Date(AS_OF), dialect: duckdbDialect };
    expect(() => compileRefresh({ ...request, lake: { events: 'e', identities: 'i' } })).toThrow(
      'this engine reads no uploaded lists, but a rule reads vip',
    );
  });
});
