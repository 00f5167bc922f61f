import { describe, expect, it } from 'vitest';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { catalogMeasures } from '../../shared/tiles/measures.ts';
import { tempDir } from '../support/cli.ts';
import { type EventRow, writeLake } from '../support/lake.ts';
import { TileComparison } from './compare-tiles.ts';

const definition = (id: string, rule: string) => ({
  path: `definitions/${id}.yaml`,
  text: `id: ${id}\nname: ${id}\nowner: tiles\npurpose: tiles test\ncadence: daily\nrule:\n${rule}\n`,
});

const CATALOG = buildCatalog([
  definition('spent', '  event: buy\n  within: 5d\n  sum: {gte: 10}'),
  definition('tipped', '  event: buy\n  within: 5d\n  sum: {of: tip, gte: 2}'),
  definition('wired', '  event: wire\n  within: 5d\n  sum: {gt: 6000000000000000}'),
]).definitions;

const event = (id: string, user: string, name: string, ts: string, value: number, tip?: number): EventRow => ({
  event_id: id,
  source: 'shop',
  user_id: user,
  event_name: name,
  ts,
  value,
  ...(tip === undefined ? {} : { properties: { tip } }),
});

/** Integral values for `spent`; one fractional tip (planted); wires whose absolute total passes 2^53. */
const EVENTS: EventRow[] = [
  event('b1', 'ann', 'buy', '2024-03-06T10:00:00Z', 4, 1),
  event('b2', 'ann', 'buy', '2024-03-08T10:00:00Z', 6, 0.5),
  event('b3', 'bob', 'buy', '2024-03-09T23:00:00Z', 9, 2),
  event('b4', 'bob', 'buy', '2024-03-10T01:00:00Z', 1, 1),
  event('w1', 'ann', 'wire', '2024-03-07T10:00:00Z', 5_000_000_000_000_000),
  event('w2', 'ann', 'wire', '2024-03-09T10:00:00Z', 2_000_000_000_000_000),
  event('w3', 'cy', 'wire', '2024-03-08T10:00:00Z', 3_000_000_000_000_000),
  // Two copies of one id on a day read raw: the first (out of every scope) is the one that counts, so dee tipped nothing
  event('d1', 'dee', 'view', '2024-03-08T09:00:00Z', 0),
  event('d1', 'dee', 'buy', '2024-03-08T11:00:00Z', 1, 5.5),
  // ...and here the first is the buy: eve tipped 5.5
  event('e1', 'eve', 'buy', '2024-03-08T09:00:00Z', 1, 5.5),
  event('e1', 'eve', 'view', '2024-03-08T11:00:00Z', 0),
];

describe('sums tiles cannot hold exactly', () => {
  it('are read raw over their window, found by inexactSumsSql, and the refresh still gives the full rows', async () => {
    // GIVEN a lake with a planted fractional tip, wires whose absolute total reaches 2^53, and
    // copies of one id on one day where only one is in the tip sum's scope
    const lake = await tempDir();
    await writeLake(lake, EVENTS);
    const comparison = new TileComparison(await openDuckDb(), lake, CATALOG, await tempDir());
    await comparison.build(Date.parse('2024-03-12T00:00:00Z'));
    const [spent, tipped, wired] = ['spent', 'tipped', 'wired'].map((id) => catalogMeasures(CATALOG.filter((c) => c.id === id))[0]?.id);
    for (const asOf of ['2024-03-10T12:00:00Z', '2024-03-11T00:00:00Z', '2024-03-11T09:30:00Z']) {
      // WHEN the catalog is compiled over tiles with the inexact sums read raw
      const tiled = await comparison.compareRefresh(Date.parse(asOf));
      // THEN exactly the tip and the wire sums are inexact, the integral one is exact, and the rows are the full ones;
      // every person's side of their bounds is decided (sum-bounds.ts), so none reads raw
      expect([...comparison.lastInexact]).toEqual([tipped, wired].sort());
      expect(tiled.rawMeasures).toEqual([]);
      expect(tiled.measures).toContain(spent);
    }
  });
});
