import { appendFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringLiteral } from '../../shared/compiler/sql-text.ts';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { LocalTiles } from '../../shared/local/local-tile-store.ts';
import { LocalTileStore } from '../../shared/local/local-tiles.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { catalogMeasures } from '../../shared/tiles/measures.ts';
import type { TileStore } from '../../shared/tiles/tile-store.ts';
import { tempDir } from '../support/cli.ts';
import { header, login, writeLake } from '../support/lake.ts';

const DAYS = ['2024-03-01', '2024-03-02', '2024-03-03', '2024-03-04'];
const measures = catalogMeasures(
  buildCatalog([{ path: 'definitions/logged_in.yaml', text: `${header('logged_in')}rule:\n  event: login\n  within: 7d\n` }]).definitions,
);

describe('the local tile store port (LocalTiles over LocalTileStore)', () => {
  let lake: string;
  let state: string;
  let engine: DuckDbEngine;
  let tiles: TileStore;

  beforeAll(async () => {
    lake = await tempDir();
    state = await tempDir();
    await writeLake(lake, [
      login('a', 'ann', '2024-03-01T10:00:00Z'),
      login('b', 'bob', '2024-03-02T10:00:00Z'),
      login('c', 'ann', '2024-03-03T10:00:00Z'),
    ]);
    const connection = await openDuckDb();
    engine = new DuckDbEngine(connection, lake);
    tiles = new LocalTiles(new LocalTileStore(connection, state), engine, lake);
  });

  it('builds missing days, then reuses them, then rebuilds only the days a late file holds events of, and reports each', async () => {
    // GIVEN no tiles WHEN the store refreshes four days THEN it builds all four
    expect(await tiles.refresh({ measures, days: DAYS, runId: 'r1' })).toEqual({ built: DAYS, rebuilt: [], fresh: 0 });
    // WHEN it refreshes them again THEN every tile is reused
    expect(await tiles.refresh({ measures, days: DAYS, runId: 'r2' })).toEqual({ built: [], rebuilt: [], fresh: 4 });
    // WHEN a late file lands in dt=2024-03-02 with an event of 03-02 THEN only 03-02 is rebuilt: 03-01 and 03-03
    // read the partition (d-1..d+1) but the new file holds no event of theirs (a realtime tick beside yesterday's tile)
    await appendFile(join(lake, 'events', 'dt=2024-03-02', 'late.jsonl'), `${JSON.stringify(login('d', 'cy', '2024-03-02T20:00:00Z'))}\n`);
    expect(await tiles.refresh({ measures, days: DAYS, runId: 'r3' })).toEqual({
      built: [],
      rebuilt: [{ day: '2024-03-02', reason: 'inputs' }],
      fresh: 3,
    });
    // WHEN another file lands in dt=2024-03-02 holding only an event of 03-03 (the SPEC's day of slack)
    await appendFile(
      join(lake, 'events', 'dt=2024-03-02', 'slack.jsonl'),
      `${JSON.stringify(login('e', 'dan', '2024-03-03T00:30:00Z'))}\n`,
    );
    // THEN only 03-03 is rebuilt, and the kept days now name the file among their inputs: nothing is stale after
    expect(await tiles.refresh({ measures, days: DAYS, runId: 'r4' })).toEqual({
      built: [],
      rebuilt: [{ day: '2024-03-03', reason: 'inputs' }],
      fresh: 3,
    });
    expect(await tiles.refresh({ measures, days: DAYS, runId: 'r5' })).toEqual({ built: [], rebuilt: [], fresh: 4 });
    const rows = await engine.rows(`SELECT DISTINCT day, user_key FROM ${tiles.relations(['2024-03-03']).tiles} AS t ORDER BY user_key`);
    expect(rows).toEqual([
      { day: '2024-03-03', user_key: 'ann' },
      { day: '2024-03-03', user_key: 'dan' },
    ]);
  });

  it('gives relations over the stored tiles of the days asked for', async () => {
    const relations = tiles.relations(['2024-03-02']);
    const rows = await engine.rows(`SELECT DISTINCT day, user_key FROM ${relations.tiles} AS t ORDER BY user_key`);
    expect(rows).toEqual([
      { day: '2024-03-02', user_key: 'bob' },
      { day: '2024-03-02', user_key: 'cy' },
    ]);
    expect(await engine.rows(`SELECT count(*) AS n FROM ${relations.contestedIds} AS c`)).toEqual([{ n: 0n }]);
  });

  it('writes its Parquet with ZSTD, and reads a tile file of the previous release (Snappy) as before', async () => {
    const codecs = async (file: string) =>
      (await engine.rows(`SELECT DISTINCT compression FROM parquet_metadata(${stringLiteral(file)}) ORDER BY 1`)).map((r) => r.compression);
    const day = join(state, 'tiles', 'day=2024-03-02', 'tiles.parquet');
    // GIVEN the tiles built above THEN the day's tiles and its index of counted ids are ZSTD
    expect(await codecs(day)).toEqual(['ZSTD']);
    expect(await codecs(join(state, 'tiles', 'ids', 'day=2024-03-02', 'ids.parquet'))).toEqual(['ZSTD']);
    const rowsOf = () => engine.rows(`SELECT * FROM ${tiles.relations(['2024-03-02']).tiles} AS t ORDER BY ALL`);
    const before = await rowsOf();
    // WHEN the day's file is the previous release's Snappy file with the same rows
    const old = `${day}.snappy`;
    await engine.rows(
      `COPY (SELECT * FROM read_parquet(${stringLiteral(day)})) TO ${stringLiteral(old)} (FORMAT parquet, COMPRESSION snappy)`,
    );
    await rename(old, day);
    expect(await codecs(day)).toEqual(['SNAPPY']);
    // THEN the store reads the same rows and keeps the day (the codec is not part of the layout)
    expect(await rowsOf()).toEqual(before);
    expect(await tiles.refresh({ measures, days: DAYS, runId: 'r6' })).toEqual({ built: [], rebuilt: [], fresh: 4 });
  });

  it('counts the bytes of the tile files and lake partitions a query reads', async () => {
    const size = async (...path: string[]) => (await stat(join(...path))).size;
    const tileDay = await size(state, 'tiles', 'day=2024-03-02', 'tiles.parquet');
    const contested = await size(state, 'tiles', 'contested.parquet');
    const partition =
      (await size(lake, 'events', 'dt=2024-03-02', 'events.jsonl')) +
      (await size(lake, 'events', 'dt=2024-03-02', 'late.jsonl')) +
      (await size(lake, 'events', 'dt=2024-03-02', 'slack.jsonl'));
    const bytesOf = tiles.bytesOf?.bind(tiles);
    expect(bytesOf).toBeDefined();
    expect(await bytesOf?.({ days: ['2024-03-02'], partitions: [] })).toBe(tileDay + contested);
    expect(await bytesOf?.({ days: [], partitions: ['2024-03-02'] })).toBe(contested + partition);
  });
});

describe('the local tile store port and a file landing while it refreshes', () => {
  it('records as a day’s inputs only the files its build read, so a file landing mid-refresh is read by the next refresh', async () => {
    // GIVEN a lake with an event on 03-02, and an engine after whose listing a late file lands in dt=2024-03-02
    // (`cohorts ingest` beside `cohorts watch`), once
    const lake = await tempDir();
    const state = await tempDir();
    await writeLake(lake, [login('a', 'ann', '2024-03-02T10:00:00Z')]);
    const connection = await openDuckDb();
    const engine = new DuckDbEngine(connection, lake);
    let landed = false;
    const land = async () => {
      if (landed) return;
      landed = true;
      await appendFile(
        join(lake, 'events', 'dt=2024-03-02', 'late.jsonl'),
        `${JSON.stringify(login('b', 'bob', '2024-03-02T11:00:00Z'))}\n`,
      );
    };
    const racing = {
      lake: async () => {
        const view = await engine.lake();
        await land();
        return view;
      },
      listLake: async () => {
        const listed = await engine.listLake();
        await land();
        return listed;
      },
      rows: (sql: string) => engine.rows(sql),
    };
    const day = ['2024-03-02'];
    // WHEN one refresh lists the lake before the file lands, and the next after
    await new LocalTiles(new LocalTileStore(connection, state), racing, lake).refresh({ measures, days: day });
    expect(landed).toBe(true);
    const tiles = new LocalTiles(new LocalTileStore(connection, state), engine, lake);
    const second = await tiles.refresh({ measures, days: day });
    // THEN the second rebuilds the day (its inputs changed) and the day's tile holds the late file's event
    expect(second).toEqual({ built: [], rebuilt: [{ day: '2024-03-02', reason: 'inputs' }], fresh: 0 });
    const keys = await engine.rows(`SELECT DISTINCT user_key FROM ${tiles.relations(day).tiles} AS t ORDER BY user_key`);
    expect(keys).toEqual([{ user_key: 'ann' }, { user_key: 'bob' }]);
  });
});
