import { appendFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CompileRequest, compileRefresh } from '../../shared/compiler/compile-refresh.ts';
import { duckdbDialect } from '../../shared/compiler/duckdb-dialect.ts';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { findLakeFiles } from '../../shared/local/lake-files.ts';
import { LocalTileExpiry } from '../../shared/local/local-tile-expiry.ts';
import { LocalTiles } from '../../shared/local/local-tile-store.ts';
import { LocalTileStore } from '../../shared/local/local-tiles.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { DAY_MS, dayOf } from '../../shared/tiles/day-split.ts';
import { ROLLUP_DAY, tileExpiry } from '../../shared/tiles/expiry.ts';
import { catalogMeasures } from '../../shared/tiles/measures.ts';
import type { TileStore } from '../../shared/tiles/tile-store.ts';
import { compileTiledRefresh, inexactSumsSql, requestUses, tileDaysNeeded } from '../../shared/tiles/tiled-refresh.ts';
import { tempDir } from '../support/cli.ts';
import type { EventRow } from '../support/lake.ts';
import { seededRandom } from '../support/seeded-random.ts';

const HOUR_MS = 3_600_000;
const START = Date.parse('2024-05-01T00:00:00Z');
const FIRST_DAYS = 12;
const USERS = ['ann', 'bob', 'cy', 'dee'];

const definition = (id: string, rule: string) => ({
  path: `definitions/${id}.yaml`,
  text: `id: ${id}\nname: ${id}\nowner: tiles\npurpose: tile expiry test\ncadence: daily\nrule:\n${rule}\n`,
});

/** All-history uses (no window, `before`) of every aggregate, beside short windows and a velocity. */
const CATALOG = [
  definition('seen_ever', '  event: "*"\n  count: {gte: 3}'),
  definition('veterans', '  event: login\n  before: 3d\n  count: {gte: 2}'),
  definition('recent', '  event: login\n  within: 2d'),
  definition('on_pro', '  latest: {event: buy, property: plan}\n  eq: pro'),
  definition('explorers', '  event: view\n  distinct: {of: feature, gte: 2}'),
  definition('spenders', '  event: buy\n  sum: {gte: 20}'),
  definition('speeding', '  velocity: {event: login, window: 1d}\n  gt: 1'),
];
/**
 * A new measure read over all history (refresh 5: the rollup lacks it), a new one read over a short
 * window only (refresh 6: the rollup need not hold it) and a window reaching further back than the
 * rollup's end (refresh 7).
 */
const BUYERS = definition('buyers', '  event: buy\n  count: {gte: 3}');
const BROWSERS = definition('browsers', '  event: view\n  within: 2d');
const LOYAL = definition('loyal', '  event: login\n  within: 9d\n  count: {gte: 4}');

const catalogAt = (k: number) =>
  buildCatalog([...CATALOG, ...(k >= 5 ? [BUYERS] : []), ...(k >= 6 ? [BROWSERS] : []), ...(k >= 7 ? [LOYAL] : [])]).definitions;

const at = (day: number, ms: number) => new Date(START + day * DAY_MS + ms).toISOString();

/** The events of one day: logins, buys (integral values, a plan) and views (a feature) per user. */
function dayEvents(day: number): EventRow[] {
  const next = seededRandom(day + 11);
  const events: EventRow[] = [];
  for (const [u, user] of USERS.entries()) {
    for (let i = 0; i < Math.floor(next() * 3); i++) {
      const ts = at(day, Math.floor(next() * DAY_MS));
      const kind = next();
      const event_id = `d${day}-u${u}-${i}`;
      if (kind < 0.4) events.push({ event_id, source: 'app', user_id: user, event_name: 'login', ts });
      else if (kind < 0.7) {
        const plan = ['basic', 'pro'][Math.floor(next() * 2)];
        events.push({
          event_id,
          source: 'shop',
          user_id: user,
          event_name: 'buy',
          ts,
          value: 1 + Math.floor(next() * 9),
          properties: { plan },
        });
      } else {
        const feature = ['a', 'b', 'c'][Math.floor(next() * 3)];
        events.push({ event_id, source: 'app', user_id: user, event_name: 'view', ts, properties: { feature } });
      }
    }
  }
  return events;
}

/** Ivy's one buy, on day 2: counted twice (its copy of refresh 4 read raw beside the rollup), she would be a spender. */
const IVY_BUY: EventRow = {
  event_id: 'x-1',
  source: 'shop',
  user_id: 'ivy',
  event_name: 'buy',
  ts: at(2, HOUR_MS),
  value: 12,
  properties: { plan: 'basic' },
};

async function addFile(lake: string, day: number, name: string, rows: readonly EventRow[]): Promise<void> {
  const dir = join(lake, 'events', `dt=${dayOf(START + day * DAY_MS)}`);
  await mkdir(dir, { recursive: true });
  await appendFile(join(dir, name), rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

/** The as-of of refresh k: a day later each time, at midnight or mid-day; refresh 8 goes back three days. */
const asOfAt = (k: number) => START + (FIRST_DAYS + (k >= 8 ? k - 3 : k)) * DAY_MS + [0, 9 * HOUR_MS, 15.5 * HOUR_MS][k % 3]!;

/** What lands before refresh k (beside the new day): changes that reach the days already folded into the rollup. */
async function changeBefore(k: number, lake: string): Promise<void> {
  if (k < 8) await addFile(lake, FIRST_DAYS + k, 'events.jsonl', dayEvents(FIRST_DAYS + k));
  if (k === 2) {
    // a late file in a folded day, with a person seen only there (the population must keep her)
    await addFile(lake, 1, 'late.jsonl', [
      { event_id: 'late-1', source: 'app', user_id: 'gus', event_name: 'login', ts: at(1, 5 * HOUR_MS) },
      {
        event_id: 'late-2',
        source: 'shop',
        user_id: 'ann',
        event_name: 'buy',
        ts: at(1, 6 * HOUR_MS),
        value: 40,
        properties: { plan: 'pro' },
      },
    ]);
  }
  if (k === 4) {
    // a differing copy, today, of an event of a folded day: the old copy counts (first by ts over all history)
    await addFile(lake, FIRST_DAYS + k, 'copies.jsonl', [{ ...IVY_BUY, user_id: 'dee', ts: at(FIRST_DAYS + k, HOUR_MS) }]);
  }
}

describe('tile expiry', () => {
  it('folds old days into the rollup and keeps every refresh equal to the full computation, through late data, contested copies, new measures, wider windows and an earlier as-of', async () => {
    // GIVEN a lake of twelve days, a catalog reading all history, and a store that expires tiles
    const lake = await tempDir();
    for (let day = 0; day < FIRST_DAYS; day++) await addFile(lake, day, 'events.jsonl', dayEvents(day));
    await addFile(lake, 0, 'first.jsonl', [{ event_id: 'only-0', source: 'app', user_id: 'hal', event_name: 'view', ts: at(0, HOUR_MS) }]);
    await addFile(lake, 2, 'ivy.jsonl', [IVY_BUY]);
    const state = await tempDir();
    const connection = await openDuckDb();
    const engine = new DuckDbEngine(connection, lake);
    // One day is enough to fold (FOLD_BATCH_DAYS waits for a week): every refresh folds.
    const local = new LocalTiles(new LocalTileStore(connection, state), engine, lake, new LocalTileExpiry(connection, state, 1));
    const tiles: TileStore = local;
    const rebuiltFolded: number[] = [];
    for (let k = 0; k < 10; k++) {
      await changeBefore(k, lake);
      const asOf = asOfAt(k);
      const cohorts = catalogAt(k);
      const lakeView = await engine.lake();
      const request: CompileRequest = { cohorts, asOf: new Date(asOf), lake: lakeView.relations, dialect: duckdbDialect };
      const first = (await findLakeFiles(lake)).partitions[0];
      const days = tileDaysNeeded(request, first);
      // WHEN the refresh brings its tiles up to date, then expires what it does not read one by one (one retention day)
      const expiry = tileExpiry({ uses: requestUses(request), asOf, retentionDays: 1 });
      const keepFrom = expiry.keepFrom;
      const report = await tiles.refresh({ measures: catalogMeasures(cohorts), days, runId: `r${k}`, expiry });
      rebuiltFolded.push([...report.built, ...report.rebuilt.map((r) => r.day)].filter((d) => d < dayOf(asOf - 4 * DAY_MS)).length);
      const expired = (await tiles.expire?.(keepFrom)) ?? [];
      expect(expired.every((day) => day < keepFrom)).toBe(true);
      // THEN no day before keepFrom is stored on its own, the rollup is, and the tiled refresh gives the full rows
      const stored = (await readdir(join(state, 'tiles'))).filter((n) => n.startsWith('day=')).map((n) => n.slice(4));
      expect(stored.filter((day) => day < keepFrom)).toEqual([ROLLUP_DAY]);
      expect(tiles.rolledUpBefore?.()).toBe(keepFrom);
      const relations = tiles.relations(days);
      const tiled = { ...request, tiles: relations, ...(first === undefined ? {} : { firstPartition: first }) };
      const rawMeasures = (await engine.rows(inexactSumsSql(tiled))).map((r) => String(r.measure));
      const sorted = (rows: Record<string, unknown>[]) => rows.sort((a, b) => (String(a.person_id) < String(b.person_id) ? -1 : 1));
      const want = sorted(await engine.rows(compileRefresh(request).sql));
      const got = sorted(await engine.rows(compileTiledRefresh({ ...tiled, rawMeasures }).sql));
      expect({ k, rows: got }).toEqual({ k, rows: want });
      expect(want.some((row) => row.person_id === 'hal')).toBe(true);
    }
    // AND forgetting a person seen only on a folded day removes her from the rollup too
    const rollupDir = join(state, 'tiles', `day=${ROLLUP_DAY}`);
    expect(await local.forget(['hal'])).toContain(join(rollupDir, 'tiles.parquet'));
    const request: CompileRequest = {
      cohorts: catalogAt(9),
      asOf: new Date(asOfAt(9)),
      lake: (await engine.lake()).relations,
      dialect: duckdbDialect,
    };
    const first = (await findLakeFiles(lake)).partitions[0] as string;
    const tiled = compileTiledRefresh({ ...request, tiles: tiles.relations(tileDaysNeeded(request, first)), firstPartition: first });
    expect((await engine.rows(tiled.sql)).map((r) => r.person_id)).not.toContain('hal');
    // AND the folded days are built again only when something reached them: the late file (2), the
    // contested copy (4), the new all-history measure (5), the wider window (7) and the earlier as-of (8)
    expect(rebuiltFolded.map((n, k) => (n > 0 ? k : -1)).filter((k) => k >= 0)).toEqual([0, 2, 4, 5, 7, 8]);
  }, 240_000);
});
