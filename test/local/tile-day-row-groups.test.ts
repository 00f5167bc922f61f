import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringLiteral } from '../../shared/compiler/sql-text.ts';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { findLakeFiles } from '../../shared/local/lake-files.ts';
import { LocalTileStore } from '../../shared/local/local-tiles.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { TILE_DAY_ROW_GROUP_SIZE } from '../../shared/local/tile-parquet.ts';
import { catalogMeasures } from '../../shared/tiles/measures.ts';
import { PRESENCE } from '../../shared/tiles/tile-sql.ts';
import { tempDir } from '../support/cli.ts';
import { type EventRow, header, login } from '../support/lake.ts';

const DAY = '2024-03-02';
const PEOPLE = 20_000;
const measures = catalogMeasures(
  buildCatalog([
    { path: 'definitions/logged_in.yaml', text: `${header('logged_in')}rule:\n  event: login\n  within: 7d\n` },
    { path: 'definitions/spent.yaml', text: `${header('spent')}rule:\n  event: buy\n  within: 7d\n  sum: {gte: 10}\n` },
  ]).definitions,
);

describe('a tile day file', () => {
  it('holds its rows sorted by measure in small row groups, so that a scan of one measure skips the others', async () => {
    // GIVEN a day where each of 20,000 people logs in and buys: a count, a sum and the presence rows, 60,000 tile rows
    const lake = await tempDir();
    const state = await tempDir();
    const events: EventRow[] = [];
    for (let i = 0; i < PEOPLE; i++) {
      events.push(login(`l${i}`, `u${i}`, `${DAY}T10:00:00Z`));
      events.push({ event_id: `b${i}`, source: 'product', user_id: `u${i}`, event_name: 'buy', ts: `${DAY}T11:00:00Z`, value: i % 7 });
    }
    await mkdir(join(lake, 'events', `dt=${DAY}`), { recursive: true });
    await writeFile(join(lake, 'events', `dt=${DAY}`, 'events.jsonl'), `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
    const connection = await openDuckDb();
    const engine = new DuckDbEngine(connection, lake);
    const store = new LocalTileStore(connection, state);
    // WHEN the day's tiles are built
    await store.refresh(measures, [DAY], (await engine.lake()).relations, await findLakeFiles(lake));
    const file = stringLiteral(join(state, 'tiles', `day=${DAY}`, 'tiles.parquet'));
    const groups = (
      await engine.rows(
        `SELECT row_group_id AS g, row_group_num_rows AS n, stats_min_value AS lo, stats_max_value AS hi FROM parquet_metadata(${file}) WHERE path_in_schema = 'measure' ORDER BY g`,
      )
    ).map((r) => ({ n: Number(r.n), lo: String(r.lo), hi: String(r.hi) }));
    const held = await engine.rows(`SELECT measure, count(*) AS n FROM read_parquet(${file}) GROUP BY measure ORDER BY measure`);
    const total = groups.reduce((sum, g) => sum + g.n, 0);
    expect(total).toBe(3 * PEOPLE);
    expect(held.map((r) => Number(r.n))).toEqual([PEOPLE, PEOPLE, PEOPLE]);
    // THEN its row groups hold at most TILE_DAY_ROW_GROUP_SIZE rows each, in measure order (each starts where the last ended)
    expect(groups.every((g) => g.n <= TILE_DAY_ROW_GROUP_SIZE)).toBe(true);
    for (const [i, g] of groups.entries()) if (i > 0) expect(g.lo >= (groups[i - 1]?.hi as string)).toBe(true);
    // AND the groups a scan of one measure cannot skip by their min and max hold at most its rows and one group on each side
    for (const { measure } of held) {
      const read = groups.filter((g) => g.lo <= String(measure) && String(measure) <= g.hi).reduce((sum, g) => sum + g.n, 0);
      expect(read).toBeLessThanOrEqual(PEOPLE + 2 * TILE_DAY_ROW_GROUP_SIZE);
      expect(read).toBeLessThan(total);
    }
    // AND DuckDB skips the other groups: a scan of the two sum and count measures (an IN list, which DuckDB uses to
    // skip row groups only, not to filter rows) gives fewer rows than the file holds, the presence rows' groups left out
    const both = held.filter((r) => String(r.measure) !== PRESENCE).map((r) => stringLiteral(String(r.measure)));
    const profile = join(state, 'profile.json');
    await connection.run(`PRAGMA enable_profiling = 'json'`);
    await connection.run(`PRAGMA profiling_output = ${stringLiteral(profile)}`);
    await connection.run(`SELECT count(*) FROM read_parquet(${file}) WHERE measure IN (${both.join(', ')})`);
    await connection.run('PRAGMA disable_profiling');
    const scanned = scannedRows(JSON.parse(await readFile(profile, 'utf8')) as ProfileNode);
    expect(scanned).toBeGreaterThanOrEqual(2 * PEOPLE);
    expect(scanned).toBeLessThanOrEqual(2 * PEOPLE + TILE_DAY_ROW_GROUP_SIZE);
  }, 60_000);
});

interface ProfileNode {
  readonly operator_name?: string;
  readonly operator_cardinality?: number;
  readonly children?: readonly ProfileNode[];
}

/** The rows the Parquet scans of a DuckDB JSON profile emitted. */
function scannedRows(node: ProfileNode): number {
  const own = node.operator_name === 'READ_PARQUET' ? (node.operator_cardinality ?? 0) : 0;
  return own + (node.children ?? []).reduce((sum, child) => sum + scannedRows(child), 0);
}
