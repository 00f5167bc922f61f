import { describe, expect, it } from 'vitest';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { tempDir } from '../support/cli.ts';
import { login, writeLake } from '../support/lake.ts';
import { TileComparison } from './compare-tiles.ts';

const CATALOG = buildCatalog([
  {
    path: 'definitions/recent.yaml',
    text: 'id: recent\nname: recent\nowner: tiles\npurpose: tiles test\ncadence: daily\nrule:\n  event: login\n  within: 6h\n',
  },
]).definitions;

describe('the tiled query de-duplicates as the full scan does', () => {
  it("never lets a copy from before the scan start win over one inside it, though T's day is read whole", async () => {
    // GIVEN copies of one event id on T's day: ann's at 04:00, before the scan (T - 6h = 06:00), bob's at 08:00
    const lake = await tempDir();
    await writeLake(lake, [
      login('e0', 'cy', '2024-03-09T10:00:00Z'),
      login('dup', 'ann', '2024-03-10T04:00:00Z'),
      login('dup', 'bob', '2024-03-10T08:00:00Z'),
    ]);
    const comparison = new TileComparison(await openDuckDb(), lake, CATALOG, await tempDir());
    const asOf = Date.parse('2024-03-10T12:00:00Z');
    await comparison.build(asOf);
    // WHEN the tiled refresh reads T's day raw (the population needs it from midnight)
    const tiled = await comparison.compareRefresh(asOf);
    // THEN bob's copy counts, as in the full computation (compareRefresh compares every row)
    expect(tiled.rawPartitions).toEqual(['2024-03-09', '2024-03-10', '2024-03-11']);
  });
});
