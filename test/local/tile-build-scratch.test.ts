import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { findLeftovers, removeLeftovers } from '../../shared/local/leftovers.ts';
import { LocalTiles } from '../../shared/local/local-tile-store.ts';
import { LocalTileStore } from '../../shared/local/local-tiles.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { isTempFile, leftoverTest } from '../../shared/privacy/sweep.ts';
import { catalogMeasures } from '../../shared/tiles/measures.ts';
import { tempDir } from '../support/cli.ts';
import { header, login, writeLake } from '../support/lake.ts';

const measures = catalogMeasures(
  buildCatalog([{ path: 'definitions/logged_in.yaml', text: `${header('logged_in')}rule:\n  event: login\n  within: 7d\n` }]).definitions,
);

/**
 * The connection of a process killed right after DuckDB wrote a tile build's day partitions (the COPY of a
 * table holding `user_key`): nothing after it runs, no `finally` either.
 */
function killedAfterTileCopy(connection: DuckDBConnection): { connection: DuckDBConnection; killed: Promise<void> } {
  const tileTables = new Set<string>();
  let killed = false;
  let kill: () => void = () => undefined;
  const never = () => new Promise<never>(() => undefined);
  const proxy = new Proxy(connection, {
    get(target, name, receiver) {
      if (name !== 'run' && name !== 'runAndReadAll') return Reflect.get(target, name, receiver);
      return async (sql: string) => {
        if (killed) return never();
        const table = /^CREATE TEMP TABLE (\S+) AS SELECT [^;]*\buser_key\b/.exec(sql)?.[1];
        if (table !== undefined) tileTables.add(table);
        const result = name === 'run' ? await target.run(sql) : await target.runAndReadAll(sql);
        if ([...tileTables].some((t) => sql.startsWith(`COPY ${t} TO `))) {
          killed = true;
          kill();
        }
        return result;
      };
    },
  });
  return { connection: proxy, killed: new Promise<void>((resolve) => (kill = resolve)) };
}

/** Every file under the state folder's `tiles/`, relative to the state folder. */
async function tileFiles(state: string): Promise<string[]> {
  const entries = await readdir(join(state, 'tiles'), { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(state.length + 1));
}

describe('the scratch parts of a tile build killed before they were put in place', () => {
  it('are leftovers: the next run removes them, forget deletes them rather than failing on them', async () => {
    // GIVEN a lake with two people's logins and a tile build killed right after DuckDB wrote its day partitions
    const lake = await tempDir();
    const state = await tempDir();
    await writeLake(lake, [login('a', 'ann', '2024-03-01T10:00:00Z'), login('b', 'bob', '2024-03-02T10:00:00Z')]);
    const connection = await openDuckDb();
    const killing = killedAfterTileCopy(connection);
    const tiles = new LocalTiles(new LocalTileStore(killing.connection, state), new DuckDbEngine(connection, lake), lake);
    void tiles.refresh({ measures, days: ['2024-03-01', '2024-03-02'] });
    await killing.killed;
    const leftovers = await findLeftovers(state);

    // THEN each day's part (rows per identity key: personal data) is a temporary leftover, and nothing else is there
    const parts = (await tileFiles(state)).filter((path) => /\/part_\d+\.parquet$/.test(path)).sort();
    expect(parts).toHaveLength(2);
    expect(leftovers).toEqual(parts.map((path) => ({ path, kind: 'temporary' })));
    // AND the privacy sweep (forget, privacy-check) takes them for a crash's writes, which forget deletes
    const isLeftover = leftoverTest(leftovers.map((l) => l.path));
    for (const { path } of leftovers) expect([isTempFile(path), isLeftover(path)]).toEqual([true, true]);
    // AND removing the leftovers removes them and their scratch folder
    expect(await removeLeftovers(state)).toEqual(leftovers);
    expect(await findLeftovers(state)).toEqual([]);
    expect((await readdir(join(state, 'tiles'))).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('a scratch folder of a build from before (`tiles/.build-<pid>-<n>/`) is a leftover as well', async () => {
    // GIVEN a state folder holding the scratch parts a killed build of an older release left
    const state = await tempDir();
    const dir = join(state, 'tiles', '.build-4242-1', 'day=2024-03-01');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'part_0.parquet'), 'PAR1');

    // THEN it is listed, taken for a crash's write by the sweep, and removed with its folder
    const path = 'tiles/.build-4242-1/day=2024-03-01/part_0.parquet';
    expect(await findLeftovers(state)).toEqual([{ path, kind: 'temporary' }]);
    expect(isTempFile(path)).toBe(true);
    await removeLeftovers(state);
    expect(await readdir(join(state, 'tiles'))).toEqual([]);
  });

  it('a scratch folder left empty (killed after its parts were put in place, before it was removed) is a leftover too', async () => {
    // GIVEN what `cohorts run --tiles` leaves when killed just before it removes its scratch folder:
    // one empty folder per day (found by kill -9 at that operation, the reliability scripts' kill-at-op)
    const state = await tempDir();
    for (const day of ['2024-03-01', '2024-03-02'])
      await mkdir(join(state, 'tiles', '.tmp-build-4242-1', `day=${day}`), { recursive: true });

    // THEN the folder is listed, and removing the leftovers removes it
    expect(await findLeftovers(state)).toEqual([{ path: 'tiles/.tmp-build-4242-1', kind: 'temporary' }]);
    await removeLeftovers(state);
    expect(await readdir(join(state, 'tiles'))).toEqual([]);
  });
});
