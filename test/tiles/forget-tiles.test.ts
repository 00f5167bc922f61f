import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { tempDir } from '../support/cli.ts';
import { type EventRow, writeLake } from '../support/lake.ts';
import { TileComparison } from './compare-tiles.ts';

const definition = (id: string, rule: string) => ({
  path: `definitions/${id}.yaml`,
  text: `id: ${id}\nname: ${id}\nowner: tiles\npurpose: tiles test\ncadence: daily\nrule:\n${rule}\n`,
});
const CATALOG = [
  definition('bought_recently', '  event: buy\n  within: 5d'),
  definition('last_plan', '  latest: {event: buy, property: plan, within: 5d}\n  in: [pro]'),
];

const ev = (event_id: string, source: string, user_id: string, ts: string, plan: string): EventRow => ({
  event_id,
  source,
  user_id,
  event_name: 'buy',
  ts,
  value: 1,
  properties: { plan },
});

/** Ann has a product key (her person id), a CRM key mapped to her, and a copy of one event on two days (contested). */
const EVENTS: EventRow[] = [
  ev('a1', 'product', 'ann', '2024-03-06T09:00:00Z', 'pro'),
  ev('a2', 'crm', 'C-7', '2024-03-07T09:00:00Z', 'pro'),
  ev('a3', 'product', 'ann', '2024-03-07T10:00:00Z', 'pro'),
  ev('a3', 'product', 'ann', '2024-03-08T10:00:00Z', 'basic'),
  ev('b1', 'product', 'bob', '2024-03-07T11:00:00Z', 'pro'),
  ev('b2', 'crm', 'C-9', '2024-03-08T11:00:00Z', 'basic'),
];
const T = Date.parse('2024-03-10T12:00:00Z');

/** Every row of every Parquet file under the tiles folder, as `source/user key` pairs (tile rows and contested copies). */
async function keysInTiles(engine: DuckDbEngine, state: string): Promise<string[]> {
  const root = join(state, 'tiles');
  const files = (await readdir(root, { recursive: true })).filter((f) => f.endsWith('.parquet')).map((f) => join(root, f));
  const keys: string[] = [];
  for (const file of files) {
    const rows = await engine.rows(`SELECT * FROM read_parquet('${file}', hive_partitioning = false)`);
    for (const row of rows) if ('source' in row) keys.push(`${String(row.source)}/${String(row.user_key ?? row.user_id)}`);
  }
  return [...new Set(keys)].sort();
}

describe('forgetting a person in the tiles', () => {
  let comparison: TileComparison;
  let engine: DuckDbEngine;

  beforeAll(async () => {
    const lake = await tempDir();
    await writeLake(lake, EVENTS, [
      { source: 'crm', user_id: 'C-7', person_id: 'ann' },
      { source: 'crm', user_id: 'C-9', person_id: 'bob' },
    ]);
    const connection = await openDuckDb();
    engine = new DuckDbEngine(connection, lake);
    comparison = new TileComparison(connection, lake, buildCatalog(CATALOG).definitions, await tempDir());
    await comparison.build(T);
  });

  it('drops every tile row and contested copy of the person’s identity keys, and nothing else', async () => {
    // GIVEN tiles holding ann's product key, her mapped CRM key and her contested copies
    expect(await keysInTiles(engine, comparison.stateDir)).toEqual(['crm/C-7', 'crm/C-9', 'product/ann', 'product/bob']);
    // WHEN ann is forgotten
    const rewritten = await comparison.store.forget(['ann'], async () => (await engine.lake()).relations.identities);
    // THEN no tile file holds her keys; bob's stay
    expect(rewritten.length).toBeGreaterThan(0);
    expect(await keysInTiles(engine, comparison.stateDir)).toEqual(['crm/C-9', 'product/bob']);
    // and forgetting again finds nothing to rewrite
    expect(await comparison.store.forget(['ann'], async () => (await engine.lake()).relations.identities)).toEqual([]);
  });

  it('leaves the tiles fresh, and a refresh over them gives the full computation without the person', async () => {
    expect([...(await comparison.build(T)).values()].every((s) => s.status === 'fresh')).toBe(true);
    await comparison.compareRefresh(T, ['ann']);
  });
});
