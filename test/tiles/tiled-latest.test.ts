import { describe, expect, it } from 'vitest';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { tempDir } from '../support/cli.ts';
import { type EventRow, writeLake } from '../support/lake.ts';
import { TileComparison } from './compare-tiles.ts';

const CATALOG = buildCatalog([
  {
    path: 'definitions/on_pro.yaml',
    text: 'id: on_pro\nname: on pro\nowner: tiles\npurpose: tiles test\ncadence: daily\nrule:\n  latest: {event: plan_set, property: plan}\n  eq: pro\n',
  },
]).definitions;

const planSet = (id: string, source: string, user: string, ts: string, plan: string): EventRow => ({
  event_id: id,
  source,
  user_id: user,
  event_name: 'plan_set',
  ts,
  properties: { plan },
});

describe('the tiled query takes the latest value over every tile day of every key', () => {
  it('gives each person the value of their latest event across days and keys, as the full computation does', async () => {
    // GIVEN plan changes on several days: ann pro then free; bob's two keys (one person) free then pro on a later
    // day; cy pro long ago then only a login; dee pro, then free on T's own day (read raw, not from tiles)
    const lake = await tempDir();
    await writeLake(
      lake,
      [
        planSet('a1', 'product', 'ann', '2024-03-07T10:00:00Z', 'pro'),
        planSet('a2', 'product', 'ann', '2024-03-08T09:00:00Z', 'free'),
        planSet('b1', 'product', 'bob', '2024-03-07T12:00:00Z', 'free'),
        planSet('b2', 'crm', 'bob-crm', '2024-03-09T08:00:00Z', 'pro'),
        planSet('b0', 'crm', 'bob-crm', '2024-03-06T08:00:00Z', 'team'),
        planSet('c1', 'product', 'cy', '2024-03-06T10:00:00Z', 'pro'),
        { event_id: 'c2', source: 'product', user_id: 'cy', event_name: 'login', ts: '2024-03-09T10:00:00Z' },
        planSet('d1', 'product', 'dee', '2024-03-09T10:00:00Z', 'pro'),
        planSet('d2', 'product', 'dee', '2024-03-10T01:00:00Z', 'free'),
      ],
      [
        { source: 'product', user_id: 'bob', person_id: 'p-bob' },
        { source: 'crm', user_id: 'bob-crm', person_id: 'p-bob' },
      ],
    );
    const connection = await openDuckDb();
    const comparison = new TileComparison(connection, lake, CATALOG, await tempDir());
    const asOf = Date.parse('2024-03-10T12:00:00Z');
    await comparison.build(asOf);
    // WHEN the refresh reads the latest plan from the tiles of 2024-03-05 to 2024-03-09 and T's day raw
    const tiled = await comparison.compareRefresh(asOf);
    // THEN its rows are the full computation's (compareRefresh compares every row), and the members are bob and cy
    const rows = (await connection.runAndReadAll(tiled.sql)).getRowObjects();
    const members = rows.filter((row) => row.c_on_pro === true).map((row) => String(row.person_id));
    expect(members.sort()).toEqual(['cy', 'p-bob']);
    expect(tiled.tileDays?.to).toBe('2024-03-10');
  });
});
