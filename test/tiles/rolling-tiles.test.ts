import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config/config.ts';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { DAY_MS, dayOf } from '../../shared/tiles/day-split.ts';
import { tempDir } from '../support/cli.ts';
import { seededRandom } from '../support/seeded-random.ts';
import type { EventRow } from '../support/lake.ts';
import { TileComparison } from './compare-tiles.ts';

const HOUR_MS = 3_600_000;
const START = Date.parse('2024-03-01T00:00:00Z');
const FIRST_DAYS = 10;
const REFRESHES = 30;
const USERS = ['ann', 'bob', 'cy', 'dee', ' Eve@X.com ', 'fay'];

const definition = (id: string, rule: string) => ({
  path: `definitions/${id}.yaml`,
  text: `id: ${id}\nname: ${id}\nowner: tiles\npurpose: rolling tiles test\ncadence: daily\nrule:\n${rule}\n`,
});

/** Hour and day windows, `before`, velocity, latest (windowed, and over all history: carried), sums (one of fractions: decided by its bound) and references. */
const CATALOG = [
  definition('active_12h', '  event: "*"\n  within: 12h'),
  definition('regulars', '  event: login\n  within: 7d\n  count: {gte: 3}'),
  definition('spenders', '  event: buy\n  within: 5d\n  sum: {gte: 20}'),
  definition('tippers', '  event: buy\n  within: 4d\n  sum: {of: tip, gte: 1.5}'),
  definition('on_pro', '  latest: {event: buy, property: plan, within: 14d}\n  eq: pro'),
  definition('ever_pro', '  latest: {event: buy, property: plan}\n  eq: pro'),
  definition('veterans', '  event: login\n  before: 5d\n  count: {gte: 2}'),
  definition('speeding', '  velocity: {event: login, window: 2d}\n  gt: 1'),
  definition('quiet_spender', '  all:\n    - cohort: spenders\n    - not: {cohort: active_12h}'),
];
/**
 * The definition changes of refresh 17: `regulars` counts views too (a measure no tile holds yet),
 * and `veterans` gets a bounded window, so the full scan no longer reads all history.
 */
const CHANGED = [
  definition('regulars', '  event: [login, view]\n  within: 10d\n  count: {gte: 4}'),
  definition('veterans', '  event: login\n  between: [20d, 5d]\n  count: {gte: 2}'),
];
/** The new cohort of refresh 20: a measure no tile holds yet. */
const EXPLORERS = definition('explorers', '  event: view\n  within: 6d\n  distinct: {of: feature, gte: 2}');

const METRICS = parseConfig('metrics:\n  activation: {event: login, within: 3d}\n  value: {within: 36h}\n', 'cohorts.config.yaml').metrics;

/** The events of one day: a few logins, buys (integral values, tips in quarters) and views per user. */
function dayEvents(day: number): EventRow[] {
  const next = seededRandom(day + 7);
  const events: EventRow[] = [];
  const at = (ms: number) => new Date(day * DAY_MS + START + ms).toISOString();
  for (const [u, user] of USERS.entries()) {
    const count = Math.floor(next() * 4);
    for (let i = 0; i < count; i++) {
      const ts = at(Math.floor(next() * DAY_MS));
      const kind = next();
      const id = `d${day}-u${u}-${i}`;
      if (kind < 0.4) events.push({ event_id: id, source: 'app', user_id: user, event_name: 'login', ts });
      else if (kind < 0.75) {
        const properties = { plan: ['basic', 'pro', 'team'][Math.floor(next() * 3)], tip: Math.floor(next() * 4) / 4 };
        events.push({ event_id: id, source: 'shop', user_id: user, event_name: 'buy', ts, value: 1 + Math.floor(next() * 12), properties });
      } else {
        events.push({
          event_id: id,
          source: 'app',
          user_id: user,
          event_name: 'view',
          ts,
          properties: { feature: ['a', 'b', 'c'][Math.floor(next() * 3)] },
        });
      }
    }
  }
  return events;
}

const jsonl = (rows: readonly EventRow[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');

/** Appends rows to a file of the partition `dt` (a new partition or a late file in an old one). */
async function addFile(lake: string, dt: string, name: string, rows: readonly EventRow[]): Promise<void> {
  const dir = join(lake, 'events', `dt=${dt}`);
  await mkdir(dir, { recursive: true });
  await appendFile(join(dir, name), jsonl(rows));
}

const dayIndex = (k: number) => FIRST_DAYS + k;
const dtOf = (day: number) => dayOf(START + day * DAY_MS);

/**
 * What happens to the lake (and the catalog) before refresh `k`, beside the new day's partition:
 * late files, a backfilled old day, duplicates across days (identical and differing copies), an
 * identity-map change, a definition change and a new cohort.
 */
async function changeBefore(k: number, lake: string): Promise<void> {
  const today = dayIndex(k);
  await addFile(lake, dtOf(today), 'events.jsonl', dayEvents(today));
  const earlier = (day: number) => dayEvents(day);
  switch (k) {
    case 3: // a late file two days back, with new events
      await addFile(lake, dtOf(today - 2), 'late.jsonl', [
        {
          event_id: 'late-1',
          source: 'app',
          user_id: 'bob',
          event_name: 'login',
          ts: new Date(START + (today - 2) * DAY_MS + 20 * HOUR_MS).toISOString(),
        },
        {
          event_id: 'late-2',
          source: 'shop',
          user_id: 'cy',
          event_name: 'buy',
          ts: new Date(START + (today - 2) * DAY_MS + 21 * HOUR_MS).toISOString(),
          value: 30,
        },
      ]);
      break;
    case 6: // a backfilled day before the lake's first partition, with a person seen only there
      await addFile(lake, dtOf(-3), 'backfill.jsonl', [
        ...earlier(-3),
        {
          event_id: 'old-1',
          source: 'app',
          user_id: 'gus',
          event_name: 'login',
          ts: new Date(START - 3 * DAY_MS + 5 * HOUR_MS).toISOString(),
        },
        {
          event_id: 'old-2',
          source: 'app',
          user_id: 'gus',
          event_name: 'login',
          ts: new Date(START - 3 * DAY_MS + 6 * HOUR_MS).toISOString(),
        },
      ]);
      break;
    case 8: {
      // identical copies: yesterday's events again in today's partition (one day of slack) and twice in one file
      const copies = earlier(today - 1).slice(0, 3);
      await addFile(lake, dtOf(today), 'copies.jsonl', [...copies, ...copies]);
      break;
    }
    case 11: {
      // differing copies on two days: hal's buy today and, in a late file of yesterday, an earlier copy
      // of it for ivy, which is the one that counts (first by ts); hal has a login of his own
      const ts = (day: number, hour: number) => new Date(START + day * DAY_MS + hour * HOUR_MS).toISOString();
      const buy = { event_id: 'x-1', source: 'shop', event_name: 'buy', value: 30, properties: { plan: 'pro', tip: 0 } };
      await addFile(lake, dtOf(today), 'copies.jsonl', [
        { ...buy, user_id: 'hal', ts: ts(today, 1) },
        { event_id: 'x-2', source: 'app', user_id: 'hal', event_name: 'login', ts: ts(today, 3) },
      ]);
      await addFile(lake, dtOf(today - 1), 'late.jsonl', [{ ...buy, user_id: 'ivy', ts: ts(today - 1, 22) }]);
      break;
    }
    case 14: // the identity map joins bob and cy (on every source) and Eve's e-mail
      await mkdir(join(lake, 'identities'), { recursive: true });
      await writeFile(
        join(lake, 'identities', 'identities.jsonl'),
        jsonl([
          { source: 'app', user_id: 'bob', person_id: 'p-bc' },
          { source: 'shop', user_id: 'bob', person_id: 'p-bc' },
          { source: 'app', user_id: 'cy', person_id: 'p-bc' },
          { source: 'shop', user_id: 'cy', person_id: 'p-bc' },
          { source: 'app', user_id: 'eve@x.com', person_id: 'eve' },
        ] as unknown as EventRow[]),
      );
      break;
    case 23: {
      // a differing copy, in today's partition, of an event of three days ago (whose tile is built):
      // that day's tile is rebuilt without the id, which is read from the contested copies
      const [old] = earlier(today - 3);
      await addFile(lake, dtOf(today), 'copies.jsonl', [
        { ...(old as EventRow), user_id: 'dee', ts: new Date(START + today * DAY_MS + 4 * HOUR_MS).toISOString() },
      ]);
      break;
    }
  }
}

const catalogAt = (k: number) => {
  const cohorts = k >= 17 ? CATALOG.map((d) => CHANGED.find((c) => c.path === d.path) ?? d) : CATALOG;
  return buildCatalog(k >= 20 ? [...cohorts, EXPLORERS] : cohorts).definitions;
};

/** About 25 s on an idle 2-core machine; the limit leaves room for a loaded one. */
describe('tiles over a lake rolled forward day by day', () => {
  it('give the full computation rows at every one of 30 refreshes, rebuilding only what changed', async () => {
    // GIVEN a lake of ten days and a state folder for the tiles
    const lake = await tempDir();
    for (let day = 0; day < FIRST_DAYS; day++) await addFile(lake, dtOf(day), 'events.jsonl', dayEvents(day));
    const state = await tempDir();
    const connection = await openDuckDb();
    const rebuilt: number[] = [];
    const reasons = new Set<string>();
    let carried = 0;
    let carriedLatest = 0;
    let decided = 0;
    for (let k = 0; k < REFRESHES; k++) {
      // WHEN a new day (and the scenario's change) lands and the refresh runs as of midnight or mid-day
      await changeBefore(k, lake);
      const asOf = START + dayIndex(k) * DAY_MS + [0, 9 * HOUR_MS, 15.5 * HOUR_MS][k % 3]!;
      const comparison = new TileComparison(connection, lake, catalogAt(k), state, METRICS);
      const statuses = await comparison.build(asOf);
      const changed = [...statuses.values()].filter((s) => s.status !== 'fresh');
      rebuilt.push(changed.length);
      for (const s of changed) reasons.add(s.status === 'stale' ? s.reason : s.status);
      // THEN the tiled refresh gives every person, cohort and metric of the full computation
      const tiled = await comparison.compareRefresh(asOf);
      // (the fractional tip sum is inexact: its members come from tiles through its bound, or raw when undecided)
      expect(comparison.lastInexact.length).toBeGreaterThan(0);
      if (tiled.rawMeasures.length === 0) decided += 1;
      if (comparison.carry.last.moved.length > 0) carried += 1;
      if (comparison.carryLatest.last.moved.length > 0) carriedLatest += 1;
    }
    // AND a plain day builds only the tile of the day before T's (its d+1 partition is already there);
    // late files, a backfill, contested copies and new measures rebuild what they touch
    const plain = rebuilt.filter((_, k) => ![0, 3, 6, 11, 17, 20, 23].includes(k));
    expect(plain).toEqual(plain.map(() => 1));
    expect([...reasons].sort()).toEqual(['contested', 'inputs', 'measures', 'missing']);
    // AND most refreshes moved carried count partials forward rather than adding up every day again
    expect(carried).toBeGreaterThan(REFRESHES / 2);
    // (and the all-history latest rows too, computed again where an old day changed)
    expect(carriedLatest).toBeGreaterThan(REFRESHES / 2);
    // AND the inexact sums were decided from tiles by their bounds in most refreshes (none read raw)
    expect(decided).toBeGreaterThan(REFRESHES / 2);
  }, 240_000);
});
