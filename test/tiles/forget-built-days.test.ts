import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { LocalCarry } from '../../shared/local/local-carry.ts';
import { LocalPopulation } from '../../shared/local/local-population.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { catalogMeasures } from '../../shared/tiles/measures.ts';
import { tempDir } from '../support/cli.ts';
import { type EventRow, header, login, writeLake } from '../support/lake.ts';

const MEASURES = catalogMeasures(
  buildCatalog([{ path: 'definitions/active.yaml', text: `${header('active')}rule:\n  event: login\n  within: 7d\n` }]).definitions,
);
const DAYS = ['2024-03-05', '2024-03-06', '2024-03-07', '2024-03-08', '2024-03-09'];
/** Ann and bob log in; bob also through a CRM key mapped to him. */
const EVENTS: EventRow[] = [
  login('a1', 'ann', '2024-03-06T09:00:00Z'),
  login('b1', 'bob', '2024-03-06T10:00:00Z'),
  { ...login('b2', 'C-9', '2024-03-07T10:00:00Z'), source: 'crm' },
  login('a2', 'ann', '2024-03-08T09:00:00Z'),
];

afterEach(() => {
  vi.restoreAllMocks();
});

/** A lake of EVENTS with bob's CRM key mapped to him, and a tile store over a new state folder. */
async function givenTiles() {
  const lake = await tempDir();
  const state = await tempDir();
  await writeLake(lake, EVENTS, [{ source: 'crm', user_id: 'C-9', person_id: 'bob' }]);
  const connection = await openDuckDb();
  const engine = new DuckDbEngine(connection, lake);
  return { lake, state, connection, engine, tiles: engine.tiles(state) };
}

/** Appends a new day holding bob's events (both keys) and a new person's. */
async function newDayOfBob(lake: string): Promise<void> {
  await mkdir(join(lake, 'events', 'dt=2024-03-09'), { recursive: true });
  const rows = [login('b3', 'bob', '2024-03-09T08:00:00Z'), { ...login('b4', 'C-9', '2024-03-09T09:00:00Z'), source: 'crm' }];
  rows.push(login('c1', 'cid', '2024-03-09T10:00:00Z'));
  await writeFile(join(lake, 'events', 'dt=2024-03-09', 'new.jsonl'), `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
}

describe('screening the days a refresh built, after an erasure', () => {
  it('screens on the next refresh what a refresh stopped between its build and its screen left', async () => {
    // GIVEN bob forgotten, then a refresh that builds his new day and stops before its screen
    const { lake, state, engine, tiles } = await givenTiles();
    await tiles.refresh({ measures: MEASURES, days: DAYS });
    await tiles.forget(['bob']);
    await newDayOfBob(lake);
    const stopped = await tiles.refresh({ measures: MEASURES, days: DAYS, screen: true });
    expect(stopped.rebuilt.map((r) => r.day)).toEqual(['2024-03-09']);
    const keysOfNewDay = async () =>
      (
        await engine.rows(`SELECT DISTINCT source || '/' || user_key AS k FROM ${tiles.relations(['2024-03-09']).tiles} AS t ORDER BY k`)
      ).map((row) => row.k);
    expect(await keysOfNewDay()).toEqual(['crm/C-9', 'product/bob', 'product/cid']);
    // WHEN the next refresh finds every day fresh (nothing built) and screens what it built
    const next = engine.tiles(state);
    const report = await next.refresh({ measures: MEASURES, days: DAYS, screen: true });
    expect([...report.built, ...report.rebuilt]).toEqual([]);
    const rewritten = await next.forgetForgotten((id) => id === 'bob', []);
    // THEN the day the stopped run built is screened, and the mark is gone (the run after reads nothing)
    expect(rewritten).toEqual([join(state, 'tiles', 'day=2024-03-09', 'tiles.parquet')]);
    expect(await keysOfNewDay()).toEqual(['product/cid']);
    await next.refresh({ measures: MEASURES, days: DAYS, screen: true });
    const read: string[] = [];
    const rows = engine.rows.bind(engine);
    vi.spyOn(engine, 'rows').mockImplementation(async (sql) => {
      read.push(sql);
      return rows(sql);
    });
    expect(await next.forgetForgotten((id) => id === 'bob', [])).toEqual([]);
    expect(read.filter((sql) => sql.includes('day=2024-03-09'))).toEqual([]);
  });

  it('reads and rewrites only those days and the contested copies, and keeps the population index and carried partials', async () => {
    // GIVEN tiles over a lake, then bob forgotten (cohorts forget)
    const { lake, state, connection, engine, tiles } = await givenTiles();
    await tiles.refresh({ measures: MEASURES, days: DAYS });
    expect((await tiles.forget(['bob'])).length).toBeGreaterThan(0);
    // AND a new day whose events are bob's (both keys) and a new person's
    await newDayOfBob(lake);
    const report = await tiles.refresh({ measures: MEASURES, days: DAYS, screen: true });
    // (the Tiles step screens the days built and rebuilt)
    const built = [...report.built, ...report.rebuilt.map((r) => r.day)];
    expect(built).toEqual(['2024-03-09']);

    // WHEN the built day is screened
    const dropped = [vi.spyOn(LocalCarry.prototype, 'drop'), vi.spyOn(LocalPopulation.prototype, 'drop')];
    const statements: string[] = [];
    for (const method of ['run', 'runAndReadAll', 'stream', 'streamAndReadAll'] as const) {
      const original = connection[method].bind(connection) as (sql: string) => Promise<unknown>;
      vi.spyOn(connection, method).mockImplementation(((sql: string) => {
        statements.push(sql);
        return original(sql);
      }) as never);
    }
    const rewritten = await tiles.forgetForgotten((id) => id === 'bob', built);

    // THEN only its tile lost bob's rows, no other day's tile was read, and nothing built from the tiles was dropped
    expect(rewritten).toEqual([join(state, 'tiles', 'day=2024-03-09', 'tiles.parquet')]);
    const other = DAYS.filter((day) => day !== '2024-03-09');
    expect(statements.filter((sql) => other.some((day) => sql.includes(`day=${day}`)))).toEqual([]);
    expect(statements.some((sql) => sql.includes('day=2024-03-09'))).toBe(true);
    for (const drop of dropped) expect(drop).not.toHaveBeenCalled();
    const keys = await engine.rows(
      `SELECT DISTINCT source || '/' || user_key AS k FROM ${tiles.relations(['2024-03-09']).tiles} AS t ORDER BY k`,
    );
    expect(keys.map((row) => row.k)).toEqual(['product/cid']);
  });
});
