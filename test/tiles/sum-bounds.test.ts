import { describe, expect, it } from 'vitest';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { parseConfig } from '../../shared/config/config.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { catalogMeasures } from '../../shared/tiles/measures.ts';
import { tempDir } from '../support/cli.ts';
import { type EventRow, writeLake } from '../support/lake.ts';
import { TileComparison } from './compare-tiles.ts';

const definition = (id: string, rule: string) => ({
  path: `definitions/${id}.yaml`,
  text: `id: ${id}\nname: ${id}\nowner: tiles\npurpose: tiles test\ncadence: daily\nrule:\n${rule}\n`,
});
const leaf = (id: string, name: string, sum: string) => definition(id, `  event: ${name}\n  within: 6d\n  sum: {${sum}}`);

/** `pay` (sum of value): one leaf per operator, every person far from every bound or exact. */
const PAY = Object.entries({
  gte: 'gte: 100',
  gt: 'gt: 50.5',
  lt: 'lt: -2',
  lte: 'lte: 0.3',
  eq: 'eq: 12.34',
  range: 'gte: 10, lt: 20',
}).map(([op, sum]) => leaf(`pay_${op}`, 'pay', sum));
const CATALOG = buildCatalog([
  ...PAY,
  // `refund`: an exact decimal tie with the bound (19.99 + 80.01 against 100), which no tile can decide
  leaf('refund_gte', 'refund', 'gte: 100'),
  // `wire` (sum of the property amt): large values that cancel, which no error bound can tell from the bound
  leaf('wire_gte', 'wire', 'of: amt, gte: 1'),
  // `fee`: the same kind of fractional values, compared by gte and lte; a NaN-free large total far from the bound
  leaf('fee_lte', 'fee', 'lte: -0.5'),
]).definitions;

let n = 0;
const event = (user: string, name: string, ts: string, value: number | null, amt?: unknown): EventRow => ({
  event_id: `e${++n}`,
  source: 'shop',
  user_id: user,
  event_name: name,
  ts,
  value,
  ...(amt === undefined ? {} : { properties: { amt } }),
});

const EVENTS: EventRow[] = [
  // pay: fractions on several days, far from every bound
  event('ann', 'pay', '2024-03-06T10:00:00Z', 60.25),
  event('ann', 'pay', '2024-03-08T10:00:00Z', 45.5),
  event('bob', 'pay', '2024-03-07T10:00:00Z', 0.1),
  event('bob', 'pay', '2024-03-09T10:00:00Z', 0.15),
  // mixed integral and fractional days, negative values
  event('cy', 'pay', '2024-03-06T10:00:00Z', -1.5),
  event('cy', 'pay', '2024-03-07T10:00:00Z', -1.25),
  event('cy', 'pay', '2024-03-08T10:00:00Z', 3),
  // a large magnitude with a fraction
  event('dee', 'pay', '2024-03-07T10:00:00Z', 1e15),
  event('dee', 'pay', '2024-03-09T10:00:00Z', 0.5),
  // a fraction on a whole day and one on the partial day of a mid-day as-of
  event('eve', 'pay', '2024-03-07T10:00:00Z', -3.75),
  event('eve', 'pay', '2024-03-11T08:00:00Z', 1.5),
  // integral only; a single value exactly on the eq bound
  event('fay', 'pay', '2024-03-07T10:00:00Z', 7),
  event('fay', 'pay', '2024-03-08T10:00:00Z', 5),
  event('gus', 'pay', '2024-03-08T10:00:00Z', 12.34),
  // null values add nothing
  event('gus', 'pay', '2024-03-09T10:00:00Z', null),
  // refund: the tie, and a person far from it
  event('hal', 'refund', '2024-03-07T10:00:00Z', 19.99),
  event('hal', 'refund', '2024-03-08T10:00:00Z', 80.01),
  event('ivy', 'refund', '2024-03-08T10:00:00Z', 0.1),
  event('ivy', 'refund', '2024-03-09T10:00:00Z', 0.2),
  // wire: large magnitudes that cancel (0 in every order, but no error bound of 3e20 tells it from 1; an order-dependent
  // cancellation such as 1.5e20 + 3.25 - 1.5e20 would make the full computation itself give 0 or 3.25 run by run)
  event('jo', 'wire', '2024-03-06T10:00:00Z', 0, 1.5e20),
  event('jo', 'wire', '2024-03-08T10:00:00Z', 0, -1.5e20),
  // text values are numeric too
  event('kim', 'wire', '2024-03-07T10:00:00Z', 0, '2.5'),
  event('kim', 'wire', '2024-03-08T10:00:00Z', 0, 0.25),
  // fee: far from its bound on both sides
  event('lu', 'fee', '2024-03-07T10:00:00Z', -0.25),
  event('lu', 'fee', '2024-03-08T10:00:00Z', -0.375),
  event('mo', 'fee', '2024-03-08T10:00:00Z', 1e300),
  event('mo', 'fee', '2024-03-09T10:00:00Z', 0.5),
];

const measureOf = (id: string) => catalogMeasures(CATALOG.filter((c) => c.id === id))[0]?.id as string;

describe('fractional sums decided from tiles by an error bound', () => {
  it('read tiles when every person is on one side of every bound, raw when a tie or a large cancellation leaves one undecided', async () => {
    // GIVEN a lake of fractional sums near and far from bounds of every operator
    const lake = await tempDir();
    await writeLake(lake, EVENTS);
    const comparison = new TileComparison(await openDuckDb(), lake, CATALOG, await tempDir());
    await comparison.build(Date.parse('2024-03-12T00:00:00Z'));
    const [pay, refund, wire, fee] = ['pay_gte', 'refund_gte', 'wire_gte', 'fee_lte'].map(measureOf);
    for (const asOf of ['2024-03-11T00:00:00Z', '2024-03-11T09:30:00Z', '2024-03-12T00:00:00Z']) {
      // WHEN the catalog is compiled over tiles as the tiles step does
      const tiled = await comparison.compareRefresh(Date.parse(asOf));
      // THEN every sum is inexact (tiles cannot give its bits), yet only the tie and the cancellation read raw,
      // and compareRefresh found the full computation's members for every cohort
      expect([...comparison.lastInexact]).toEqual([pay, refund, wire, fee].sort());
      expect(tiled.rawMeasures).toEqual([refund, wire].sort());
      expect(tiled.measures).toEqual(expect.arrayContaining([pay, fee]));
    }
  });
});

describe('the KPI value sum', () => {
  it("reads tiles though its values are fractional: no measure raw, and the KPIs once rounded are the full computation's", async () => {
    // GIVEN the same lake, the `pay` and `fee` leaves over 6 days, and the metrics' value a sum of the `pay` events
    // over 3 days: fractions on whole days and on the partial day of a mid-day as-of, a large magnitude with a fraction
    const lake = await tempDir();
    await writeLake(lake, EVENTS);
    const metrics = parseConfig(
      'metrics:\n  activation: {event: pay, within: 6d}\n  value: {event: pay, within: 3d}\n',
      'cohorts.config.yaml',
    ).metrics;
    const catalog = CATALOG.filter((c) => c.id.startsWith('pay_') || c.id === 'fee_lte');
    const comparison = new TileComparison(await openDuckDb(), lake, catalog, await tempDir(), metrics);
    await comparison.build(Date.parse('2024-03-12T00:00:00Z'));
    const [pay, fee] = ['pay_gte', 'fee_lte'].map(measureOf);
    for (const asOf of ['2024-03-11T00:00:00Z', '2024-03-11T09:30:00Z']) {
      // WHEN the catalog and the metrics are compiled over tiles
      const tiled = await comparison.compareRefresh(Date.parse(asOf));
      // THEN the `pay` sum is inexact (its bits are not the full computation's), yet no measure reads raw: the KPI
      // value is read from tiles whether integral or not, and compareRefresh found every person's value to the
      // last bits of the order of adding and every cohort's KPIs (rounded as a version writes them) equal
      expect(comparison.lastInexact).toContain(pay);
      expect(tiled.rawMeasures).toEqual([]);
      expect(tiled.measures).toEqual(expect.arrayContaining([pay, fee]));
      // at midnight no partition at all is read raw (the KPI's 3 days from 2024-03-08 come from tiles); mid-day,
      // only the windows' partial days are
      if (asOf.endsWith('T00:00:00Z')) expect(tiled.rawPartitions).toEqual([]);
    }
  });
});
