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

describe('screening the days a refresh built, after an erasure', () => {
  it('reads and rewrites only those days and the contested copies, and keeps the population index and carried partials', async () => {
    // GIVEN tiles over a lake, then bob forgotten (cohorts forget)
    const lake = await tempDir();
    const state = await tempDir();
    await writeLake(lake, EVENTS, [{ source: 'crm', user_id: 'C-9', person_id: 'bob' }]);
    const connection = await openDuckDb();
    const engine = new DuckDbEngine(connection, lake);
    const tiles = engine.tiles(state);
    await tiles.refresh({ measures: MEASURES, days: DAYS });
    expect((await tiles.forget(['bob'])).length).toBeGreaterThan(0);
    // AND a new day whose events are bob's (both keys) and a new person's
    await mkdir(join(lake, 'events', 'dt=2024-03-09'), { recursive: true });
    const rows = [login('b3', 'bob', '2024-03-09T08:00:00Z'), { ...login('b4', 'C-9', '2024-03-09T09:00:00Z'), source: 'crm' }];
    rows.push(login('c1', 'cid', '2024-03-09T10:00:00Z'));
    await writeFile(join(lake, 'events', 'dt=2024-03-09', 'new.jsonl'), `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const report = await tiles.refresh({ measures: MEASURES, days: DAYS });
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
