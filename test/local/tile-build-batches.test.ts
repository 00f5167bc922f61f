import { appendFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { findLakeFiles } from '../../shared/local/lake-files.ts';
import { LocalTileStore, type LocalTileStoreOptions, readJson } from '../../shared/local/local-tiles.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { catalogMeasures, type TileMeasure } from '../../shared/tiles/measures.ts';
import { tempDir } from '../support/cli.ts';
import { type EventRow, header, writeLake } from '../support/lake.ts';

const DAYS = ['2024-02-29', '2024-03-01', '2024-03-02', '2024-03-03', '2024-03-04', '2024-03-05', '2024-03-06', '2024-03-07'];
const USERS = ['ann', 'bob', 'cy', ' Dee@X.com '];

const definition = (id: string, rule: string) => ({ path: `definitions/${id}.yaml`, text: `${header(id)}rule:\n${rule}\n` });
/** Every tiled aggregate: count, sum of value and of a property, distinct values, latest value. */
const MEASURES: TileMeasure[] = catalogMeasures(
  buildCatalog([
    definition('regulars', '  event: login\n  within: 7d\n  count: {gte: 2}'),
    definition('spenders', '  event: buy\n  within: 5d\n  sum: {gte: 20}'),
    definition('tippers', '  event: buy\n  within: 4d\n  sum: {of: tip, gte: 1.5}'),
    definition('explorers', '  event: view\n  within: 6d\n  distinct: {of: feature, gte: 2}'),
    definition('on_pro', '  latest: {event: buy, property: plan, within: 7d}\n  eq: pro'),
  ]).definitions,
);

/** A day's fingerprint file in a state folder. */
const fingerprintFile = (state: string, day: string) => join(state, 'tiles', `day=${day}`, 'fingerprint.json');

const event = (id: string, user: string, name: string, ts: string, properties: Record<string, unknown> = {}, value?: number): EventRow => ({
  event_id: id,
  source: 'product',
  user_id: user,
  event_name: name,
  ts,
  properties,
  ...(value === undefined ? {} : { value }),
});

/** Seven days of events, with copies of one id on one day (identical, and differing) and on two days (contested). */
function lakeEvents(): EventRow[] {
  const rows: EventRow[] = [];
  for (let d = 1; d <= 7; d++) {
    const day = `2024-03-0${d}`;
    USERS.forEach((user, u) => {
      rows.push(event(`l-${d}-${u}`, user, 'login', `${day}T0${u + 1}:00:00Z`));
      rows.push(event(`b-${d}-${u}`, user, 'buy', `${day}T1${u}:30:00Z`, { tip: (d + u) / 4, plan: (d + u) % 2 ? 'pro' : 'free' }, d * u));
      rows.push(event(`v-${d}-${u}`, user, 'view', `${day}T2${u}:00:00Z`, { feature: `f${(d * u) % 3}` }));
    });
  }
  // Identical copies on one day, copies that differ on one day (one counts), copies on two days (contested).
  rows.push(event('b-3-1', 'bob', 'buy', '2024-03-03T11:30:00Z', { tip: 1, plan: 'pro' }, 3));
  rows.push(event('same', 'cy', 'buy', '2024-03-04T09:00:00Z', { plan: 'pro' }, 5));
  rows.push(event('same', 'cy', 'buy', '2024-03-04T09:00:00Z', { plan: 'free' }, 7));
  rows.push(event('split', 'ann', 'login', '2024-03-02T12:00:00Z'));
  rows.push(event('split', 'ann', 'login', '2024-03-06T12:00:00Z'));
  return rows;
}

describe('the tile build in batches (LocalTileStore, batchBytes)', () => {
  let lake: string;
  let connection: DuckDBConnection;
  let engine: DuckDbEngine;

  beforeAll(async () => {
    lake = await tempDir();
    await writeLake(lake, lakeEvents());
    // An event of 03-05 just after midnight, in the partition of 03-04 (the SPEC's day of slack).
    await appendFile(
      join(lake, 'events', 'dt=2024-03-04', 'slack.jsonl'),
      `${JSON.stringify(event('slack', 'bob', 'login', '2024-03-05T00:30:00Z'))}\n`,
    );
    connection = await openDuckDb();
    engine = new DuckDbEngine(connection, lake);
  });

  /** Builds every day with a store of `options` in a new state folder; the folder and the days of each progress call. */
  const build = async (options: LocalTileStoreOptions) => {
    const state = await tempDir();
    const progress: number[] = [];
    const store = new LocalTileStore(connection, state, { ...options, onProgress: (_, done) => progress.push(done) });
    const view = await engine.lake();
    await store.refresh(MEASURES, DAYS, view.relations, await findLakeFiles(lake));
    return { state, store, progress };
  };

  /** Every row a store holds: the tiles of every day, the index of counted ids, the contested copies; and the fingerprints. */
  const contents = async (state: string, store: LocalTileStore) => {
    const parquet = (pattern: string) =>
      engine.rows(`SELECT * FROM read_parquet('${join(state, 'tiles', pattern)}', hive_partitioning = true) AS f ORDER BY ALL`);
    return {
      tiles: await engine.rows(`SELECT * FROM ${store.relations(DAYS).tiles} AS t ORDER BY ALL`),
      ids: await parquet('ids/day=*/ids.parquet'),
      contested: await parquet('contested.parquet'),
      fingerprints: await Promise.all(DAYS.map((day) => store.fingerprint(day))),
      contestedIds: await readJson(join(state, 'tiles', 'contested.json')),
    };
  };

  it('gives the same tiles, index and contested copies in one batch as in one batch per day or per few days', async () => {
    // GIVEN one build in one batch (the bound above the lake's size)
    const one = await build({ batchBytes: 1e12 });
    // (one batch: no progress told)
    expect(one.progress).toEqual([]);
    const expected = await contents(one.state, one.store);
    // THEN the tiles hold the rows of every kind of measure, presence, and the contested id's copies
    const measures = new Set(expected.tiles.map((row) => row.measure));
    expect(measures.size).toBe(MEASURES.length + 1);
    expect(expected.contestedIds).toEqual({ '2024-03-02': ['split'], '2024-03-06': ['split'] });
    // WHEN every day is a batch of its own (a bound of one byte), or a few days are (a bound of about three partitions)
    const each = await build({ batchBytes: 1 });
    expect(each.progress).toEqual(DAYS.map((_, i) => i + 1));
    const dir = join(lake, 'events', 'dt=2024-03-03');
    const partition = (await Promise.all((await readdir(dir)).map(async (name) => (await stat(join(dir, name))).size))).reduce(
      (a, b) => a + b,
    );
    const few = await build({ batchBytes: 4 * partition });
    expect(few.progress.length).toBeGreaterThan(1);
    expect(few.progress.length).toBeLessThan(DAYS.length);
    // THEN every row and fingerprint is the same
    expect(await contents(each.state, each.store)).toEqual(expected);
    expect(await contents(few.state, few.store)).toEqual(expected);
  });

  it('leaves whole days with their fingerprints when a build stops between batches, and the next refresh builds the rest', async () => {
    const expected = await build({ batchBytes: 1e12 }).then(({ state, store }) => contents(state, store));
    // GIVEN a build in one batch per day that stops after its third batch
    const state = await tempDir();
    const stopping = new LocalTileStore(connection, state, {
      batchBytes: 1,
      onProgress: (_, done) => {
        if (done === 3) throw new Error('stopped');
      },
    });
    const files = await findLakeFiles(lake);
    const view = await engine.lake();
    await expect(stopping.refresh(MEASURES, DAYS, view.relations, files)).rejects.toThrow('stopped');
    // THEN the first three days have their fingerprints, the others none
    const built = await Promise.all(DAYS.map(async (day) => (await stopping.fingerprint(day)) !== undefined));
    expect(built).toEqual(DAYS.map((_, i) => i < 3));
    // WHEN the store refreshes again THEN only the other days are built, and the store holds what one batch gives
    const store = new LocalTileStore(connection, state, { batchBytes: 1 });
    const statuses = await store.refresh(MEASURES, DAYS, view.relations, files);
    expect([...statuses.values()].map((s) => s.status)).toEqual(DAYS.map((_, i) => (i < 3 ? 'fresh' : 'missing')));
    expect(await contents(state, store)).toEqual(expected);
  });

  it("backfills a measure once per day when an earlier backfill wrote a day's file but not its fingerprint", async () => {
    const expected = await build({ batchBytes: 1e12 }).then(({ state, store }) => contents(state, store));
    // GIVEN tiles built without the last measure, then backfilled with it, in one batch per day
    const state = await tempDir();
    const files = await findLakeFiles(lake);
    const view = await engine.lake();
    const older = MEASURES.slice(0, -1);
    await new LocalTileStore(connection, state, { batchBytes: 1 }).refresh(older, DAYS, view.relations, files);
    const before = await Promise.all(DAYS.map((day) => readFile(fingerprintFile(state, day), 'utf8')));
    const store = new LocalTileStore(connection, state, { batchBytes: 1 });
    await store.refresh(MEASURES, DAYS, view.relations, files);
    // AND a stop between two days' files and their fingerprints (their tiles hold the added measure, their fingerprints do not)
    const torn = [DAYS[2], DAYS[5]] as string[];
    for (const day of torn) await writeFile(fingerprintFile(state, day), before[DAYS.indexOf(day)] as string);
    expect((await store.fingerprint(torn[0] as string))?.measures).toEqual(older.map((m) => m.id).sort());
    // WHEN the store refreshes again
    const statuses = await store.refresh(MEASURES, DAYS, view.relations, files);
    // THEN only those days are backfilled, and the store holds what one build of every measure gives (no row twice)
    expect(DAYS.filter((day) => statuses.get(day)?.status !== 'fresh')).toEqual(torn);
    expect(await contents(state, store)).toEqual(expected);
  });
});
