import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { LocalPopulation } from '../../shared/local/local-population.ts';
import { LocalTiles } from '../../shared/local/local-tile-store.ts';
import { LocalTileStore } from '../../shared/local/local-tiles.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { catalogMeasures } from '../../shared/tiles/measures.ts';
import { populationIndexSql } from '../../shared/tiles/population-sql.ts';
import { tempDir } from '../support/cli.ts';
import { header, login, writeLake } from '../support/lake.ts';

const measures = catalogMeasures(
  buildCatalog([{ path: 'definitions/logged_in.yaml', text: `${header('logged_in')}rule:\n  event: login\n  within: 7d\n` }]).definitions,
);

describe('the population index of the local tiles (issue 15)', () => {
  let lake: string;
  let state: string;
  let engine: DuckDbEngine;
  let store: LocalTileStore;
  let tiles: LocalTiles;

  beforeAll(async () => {
    lake = await tempDir();
    state = await tempDir();
    await writeLake(
      lake,
      [
        login('a', 'ann', '2024-03-01T10:00:00Z'),
        login('b', 'bob', '2024-03-02T10:00:00Z'),
        login('c', 'ann', '2024-03-03T10:00:00Z'),
        login('d', 'Cy@X.com', '2024-03-03T11:00:00Z'),
      ],
      [{ source: 'product', user_id: 'bob', person_id: 'p_bob' }],
    );
    const connection = await openDuckDb();
    engine = new DuckDbEngine(connection, lake);
    store = new LocalTileStore(connection, state);
    tiles = new LocalTiles(store, engine, lake, undefined, new LocalPopulation(connection, state));
  });

  const indexRows = async (days: readonly string[]) => {
    const relations = await tiles.population(days);
    if (!relations) throw new Error('no population index');
    return { keys: await engine.rows(`SELECT * FROM ${relations.population} AS p ORDER BY user_key`) };
  };

  it('holds one row per identity key with its first and last tile day', async () => {
    // GIVEN tiles of 03-01 and 03-02 WHEN the index is asked for THEN it holds their keys
    await tiles.refresh({ measures, days: ['2024-03-01', '2024-03-02'] });
    const first = await indexRows(['2024-03-01', '2024-03-02']);
    expect(first.keys).toEqual([
      { source: 'product', user_key: 'ann', first_day: '2024-03-01', last_day: '2024-03-01' },
      { source: 'product', user_key: 'bob', first_day: '2024-03-02', last_day: '2024-03-02' },
    ]);
    // WHEN a day is added THEN the index gains its keys (first and last days move outward), as a build from every tile gives
    await tiles.refresh({ measures, days: ['2024-03-01', '2024-03-02', '2024-03-03'] });
    const days = ['2024-03-01', '2024-03-02', '2024-03-03'];
    const second = await indexRows(days);
    expect(second.keys).toEqual([
      { source: 'product', user_key: 'ann', first_day: '2024-03-01', last_day: '2024-03-03' },
      { source: 'product', user_key: 'bob', first_day: '2024-03-02', last_day: '2024-03-02' },
      { source: 'product', user_key: 'cy@x.com', first_day: '2024-03-03', last_day: '2024-03-03' },
    ]);
    const rebuilt = await engine.rows(`${populationIndexSql(store.relations(days).tiles)} ORDER BY user_key`);
    expect(second.keys).toEqual(rebuilt);
    // WHEN fewer days are read THEN the index is built again from those days' tiles only
    expect((await indexRows(['2024-03-01'])).keys).toEqual([
      { source: 'product', user_key: 'ann', first_day: '2024-03-01', last_day: '2024-03-01' },
    ]);
  });

  it('is removed by erasure and built again from the screened tiles', async () => {
    const days = ['2024-03-01', '2024-03-02', '2024-03-03'];
    await indexRows(days);
    // WHEN ann is forgotten THEN the index is not left on disk
    await tiles.forget(['ann']);
    const names = await readdir(join(state, 'tiles'));
    expect(names.filter((n) => n.startsWith('population'))).toEqual([]);
    // and the next index holds no key of hers
    expect((await indexRows(days)).keys.map((k) => k.user_key)).toEqual(['bob', 'cy@x.com']);
  });
});
