import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { tempDir } from '../support/cli.ts';
import { type EventRow, writeLake } from '../support/lake.ts';
import { TileComparison } from './compare-tiles.ts';

const definition = (id: string, rule: string) => ({
  path: `definitions/${id}.yaml`,
  text: `id: ${id}\nname: ${id}\nowner: tiles\npurpose: tiles test\ncadence: daily\nrule:\n${rule}\n`,
});

/** No leaf reads all history: the full scan starts at T - 5d, so a copy before it never competes. */
const WINDOWED = [
  definition('bought_recently', '  event: buy\n  within: 5d'),
  definition('spent_10', '  event: buy\n  within: 5d\n  sum: {gte: 10}'),
  definition('tipped', '  event: buy\n  within: 5d\n  sum: {of: tip, gt: 1}'),
  definition('plans', '  event: buy\n  within: 4d\n  distinct: {of: plan, gte: 2}'),
  definition('last_plan', '  latest: {event: buy, property: plan, within: 5d}\n  in: [pro]'),
  definition('speeding', '  velocity: {event: buy, window: 2d}\n  gt: 1'),
];

const ev = (event_id: string, user_id: string, ts: string, value: number | null, plan?: string): EventRow => ({
  event_id,
  source: 'shop',
  user_id,
  event_name: 'buy',
  ts,
  value,
  ...(plan === undefined ? {} : { properties: { plan } }),
});

/**
 * Duplicates across days: `d1` differs between 03-06 (ann) and 03-08 (bob); `d2` is the same on
 * 03-07 twice (one day); `d3` is on 03-03 (before the scan at T = 03-10 12:00 minus 5d) for cy
 * and on 03-08 for ann, so the full scan counts only ann's copy (her sum reaches 10 by it).
 */
const EVENTS: EventRow[] = [
  ev('e1', 'ann', '2024-03-05T13:00:00Z', 3, 'basic'),
  ev('e2', 'ann', '2024-03-06T09:00:00Z', 2, 'pro'),
  ev('d1', 'ann', '2024-03-06T10:00:00Z', 4, 'team'),
  ev('d1', 'bob', '2024-03-08T10:00:00Z', 9, 'pro'),
  ev('d2', 'cy', '2024-03-07T08:00:00Z', 5, 'pro'),
  ev('d2', 'cy', '2024-03-07T08:00:00Z', 5, 'pro'),
  ev('d3', 'cy', '2024-03-03T08:00:00Z', 1, 'basic'),
  ev('d3', 'ann', '2024-03-08T23:00:00Z', 1, 'basic'),
  { ...ev('e3', 'bob', '2024-03-09T11:00:00Z', 2, 'basic'), properties: { plan: 'basic', tip: 1.5 } },
  ev('e4', 'bob', '2024-03-10T01:00:00Z', 6, 'pro'),
  ev('e5', ' Dee@X.com ', '2024-03-10T11:00:00Z', 8, 'pro'),
];
const T = Date.parse('2024-03-10T12:00:00Z');

describe('tiles over duplicates across days, late files and a new measure', () => {
  let lake: string;
  let comparison: TileComparison;

  beforeAll(async () => {
    lake = await tempDir();
    await writeLake(lake, EVENTS, [{ source: 'shop', user_id: 'dee@x.com', person_id: 'dee' }]);
    comparison = new TileComparison(await openDuckDb(), lake, buildCatalog(WINDOWED).definitions, await tempDir());
  });

  it('builds every day once, then finds every tile fresh', async () => {
    // GIVEN tiles built for every day WHEN they are refreshed again with nothing changed THEN none is rebuilt
    const first = await comparison.build(T);
    expect([...first.values()].every((s) => s.status === 'missing')).toBe(true);
    const again = await comparison.build(T);
    expect([...again.values()].every((s) => s.status === 'fresh')).toBe(true);
  });

  it('gives the full computation members at several as-of instants, contested copies included', async () => {
    await comparison.build(T + 86_400_000);
    for (const asOf of [T, T - 11 * 3_600_000, T + 86_400_000]) {
      const { compared, raw } = await comparison.compare(asOf);
      // The fractional tip cannot be combined exactly: that one leaf reads raw.
      expect({ compared, raw }).toEqual({ compared: WINDOWED.length - 1, raw: 1 });
    }
    // Before the lake's first partition there is no tile day at all (an empty tiles relation) and no one.
    expect(await comparison.compare(Date.parse('2024-03-02T10:00:00Z'))).toEqual({ compared: WINDOWED.length, raw: 0 });
  });

  it('rebuilds the days a late file holds events of and the days whose contested ids change', async () => {
    // GIVEN a late file in dt=2024-03-07 with a new event and a copy of e1 (03-05) on 03-07
    await appendFile(
      join(lake, 'events', 'dt=2024-03-07', 'late.jsonl'),
      `${JSON.stringify(ev('e6', 'bob', '2024-03-07T20:00:00Z', 4, 'pro'))}\n${JSON.stringify(ev('e1', 'dee@x.com', '2024-03-07T21:00:00Z', 7, 'team'))}\n`,
    );
    // WHEN the tiles are refreshed
    const statuses = await comparison.build(T);
    // THEN 03-07 holds the new file's events, 03-05 lost e1 to the contested copies, the rest stay (03-06 and
    // 03-08 read dt=2024-03-07 too, but the added file holds no event of theirs)
    const stale = [...statuses]
      .filter(([, s]) => s.status !== 'fresh')
      .map(([day, s]) => [day, s.status === 'stale' ? s.reason : s.status]);
    expect(stale).toEqual([
      ['2024-03-05', 'contested'],
      ['2024-03-07', 'inputs'],
    ]);
    await comparison.compare(T);
  });

  it('backfills only the new measure of every day, keeping the rows it had', async () => {
    // GIVEN the built tiles WHEN a catalog with one more measure refreshes them THEN every day is rebuilt, exactly
    const wider = new TileComparison(
      await openDuckDb(),
      lake,
      buildCatalog([...WINDOWED, definition('any_count', '  event: "*"\n  count: {gte: 2}')]).definitions,
      comparison.stateDir,
    );
    const before = await comparison.store.fingerprint('2024-03-06');
    const statuses = await wider.build(T);
    expect([...statuses.values()].every((s) => s.status === 'stale' && s.reason === 'measures')).toBe(true);
    // The day kept its rows and gained the new measure's: one more measure, same inputs
    const after = await wider.store.fingerprint('2024-03-06');
    expect(after?.measures.length).toBe((before?.measures.length ?? 0) + 1);
    expect(after?.inputs).toEqual(before?.inputs);
    await wider.compare(T);
    // and a refresh with nothing changed rebuilds nothing
    expect([...(await wider.build(T)).values()].every((s) => s.status === 'fresh')).toBe(true);
  });
});
