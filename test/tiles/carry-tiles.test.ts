import { appendFile, cp, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { DAY_MS, dayOf } from '../../shared/tiles/day-split.ts';
import { tempDir } from '../support/cli.ts';
import { type EventRow, writeLake } from '../support/lake.ts';
import { TileComparison } from './compare-tiles.ts';

const definition = (id: string, rule: string) => ({
  path: `definitions/${id}.yaml`,
  text: `id: ${id}\nname: ${id}\nowner: tiles\npurpose: carry test\ncadence: daily\nrule:\n${rule}\n`,
});

/** Count uses over bounded windows, all history and `before`, so the carry moves each kind forward. */
const CATALOG = [
  definition('once_3d', '  event: login\n  within: 3d'),
  definition('twice_5d', '  event: login\n  within: 5d\n  count: {gte: 2}'),
  definition('ever_3', '  event: login\n  count: {gte: 3}'),
  definition('old_logins', '  event: login\n  before: 4d\n  count: {gte: 2}'),
  definition('exactly_2_in_3d', '  event: login\n  within: 3d\n  count: {eq: 2}'),
  definition('exactly_3_in_5d', '  event: login\n  within: 5d\n  count: {eq: 3}'),
];
const WIDER = definition('buyers_4d', '  event: buy\n  within: 4d');

const START = Date.parse('2024-03-01T00:00:00Z');
const USERS = ['ann', 'bob', 'cy', 'dee', 'eve'];

/** Day `day`'s logins: user u logs in on the days where (day + u) % (u + 2) is 0, at 10:00 and for even days also 20:00. */
function dayEvents(day: number): EventRow[] {
  return USERS.flatMap((user, u) =>
    (day + u) % (u + 2) === 0
      ? [10, ...(day % 2 === 0 ? [20] : [])].map((hour) => ({
          event_id: `d${day}-${user}-${hour}`,
          source: 'app',
          user_id: user,
          event_name: 'login',
          ts: new Date(START + day * DAY_MS + hour * 3_600_000).toISOString(),
        }))
      : [],
  );
}

const dtOf = (day: number) => dayOf(START + day * DAY_MS);

async function addFile(lake: string, day: number, name: string, rows: readonly EventRow[]): Promise<void> {
  const dir = join(lake, 'events', `dt=${dtOf(day)}`);
  await mkdir(dir, { recursive: true });
  await appendFile(join(dir, name), rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

describe('count partials carried from one tiled refresh to the next', () => {
  let lake: string;
  let state: string;
  let comparison: TileComparison;
  const connection = openDuckDb();

  /** Builds the tiles as of `asOf` and compares the tiled query (with and without the carry) with the full one. */
  async function refresh(asOf: number, catalog = CATALOG, forgotten: readonly string[] = [], stateDir = state) {
    comparison = new TileComparison(await connection, lake, buildCatalog(catalog).definitions, stateDir);
    await comparison.build(asOf);
    await comparison.compareRefresh(asOf, forgotten);
    return comparison.carry.last;
  }

  beforeAll(async () => {
    lake = await tempDir();
    state = await tempDir();
    await writeLake(lake, Array.from({ length: 8 }, (_, day) => dayEvents(day)).flat(), [
      { source: 'app', user_id: 'eve', person_id: 'eve' },
    ]);
  });

  it('moves every use forward by the day entering and the day leaving, and equals the full computation', async () => {
    // GIVEN a first refresh, which computes every use from its tiles
    const first = await refresh(START + 8 * DAY_MS + 6 * 3_600_000);
    expect(first.moved).toEqual([]);
    expect(first.fresh.length).toBeGreaterThan(0);
    // WHEN a new day lands and the refresh runs a day later (mid-day, then midnight)
    for (const day of [8, 9]) {
      await addFile(lake, day, 'events.jsonl', dayEvents(day));
      const last = await refresh(START + (day + 1) * DAY_MS + (day === 8 ? 6 * 3_600_000 : 0));
      // THEN the uses moved forward from their carried rows (all history, `before`, 5 days; a use of two whole
      // days reads no more by its own days than by a move) and the members equal the full ones
      expect(last.moved.length).toBeGreaterThanOrEqual(3);
      expect(last.moved.length + last.fresh.length).toBe(first.fresh.length);
    }
  });

  it('computes again the uses whose days changed (a late file), never the identity map', async () => {
    // GIVEN a late file into a day inside every window
    await addFile(lake, 8, 'late.jsonl', [
      {
        event_id: 'late-1',
        source: 'app',
        user_id: 'cy',
        event_name: 'login',
        ts: new Date(START + 8 * DAY_MS + 5 * 3_600_000).toISOString(),
      },
    ]);
    // AND an identity-map change (bob and cy are one person)
    await writeFile(
      join(lake, 'identities', 'identities.jsonl'),
      `${[
        { source: 'app', user_id: 'eve', person_id: 'eve' },
        { source: 'app', user_id: 'bob', person_id: 'bob' },
        { source: 'app', user_id: 'cy', person_id: 'bob' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n')}\n`,
    );
    await addFile(lake, 10, 'events.jsonl', dayEvents(10));
    // WHEN the next refresh runs
    const last = await refresh(START + 11 * DAY_MS);
    // THEN the uses covering 03-09 are computed from tiles again, the others moved, and members equal the full ones
    expect(last.fresh.length).toBeGreaterThan(0);
    // (a refresh with the identity map changed only still moves every use)
    await writeFile(
      join(lake, 'identities', 'identities.jsonl'),
      `${JSON.stringify({ source: 'app', user_id: 'eve', person_id: 'eve' })}\n`,
    );
    await addFile(lake, 11, 'events.jsonl', dayEvents(11));
    const next = await refresh(START + 12 * DAY_MS);
    expect(next.fresh).toEqual([]);
    expect(next.moved.length).toBeGreaterThan(0);
  });

  it('computes every use from its tiles again after a definition change (the days gain the new measure)', async () => {
    await addFile(lake, 12, 'events.jsonl', [
      ...dayEvents(12),
      { event_id: 'buy-1', source: 'app', user_id: 'dee', event_name: 'buy', ts: new Date(START + 12 * DAY_MS + 3_600_000).toISOString() },
    ]);
    const last = await refresh(START + 13 * DAY_MS, [...CATALOG, WIDER]);
    // Each tile day is rewritten with the new measure's rows: no old range is unchanged
    expect(last.moved).toEqual([]);
    expect(last.fresh.length).toBeGreaterThan(2);
  });

  it('fails the comparison when the carried rows are wrong (a planted off-by-one leaving day)', async () => {
    // GIVEN a carry whose record says its bounded uses start a day later than the rows it holds (the
    // next move leaves out the day leaving, as an off-by-one would)
    await addFile(lake, 13, 'events.jsonl', dayEvents(13));
    await refresh(START + 14 * DAY_MS, CATALOG);
    const copy = await tempDir();
    await cp(state, copy, { recursive: true, preserveTimestamps: true });
    const file = join(state, 'tiles', 'partials', 'partials.json');
    const made = JSON.parse(await readFile(file, 'utf8')) as { uses: { measure: string; first: string; end: string }[] };
    const shifted = made.uses.map((u) =>
      u.first === '0000-01-01' ? u : { ...u, first: dayOf(Date.parse(`${u.first}T00:00:00Z`) + DAY_MS) },
    );
    await writeFile(file, JSON.stringify({ ...made, uses: shifted }));
    await addFile(lake, 14, 'events.jsonl', dayEvents(14));
    // WHEN the next refresh moves them forward THEN its members differ from the full computation's
    await expect(refresh(START + 15 * DAY_MS, CATALOG)).rejects.toThrow(/toEqual|deep/);
    // (while the same refresh over an unplanted copy of the state folder moves them and agrees)
    const unplanted = await refresh(START + 15 * DAY_MS, CATALOG, [], copy);
    expect(unplanted.moved.length).toBeGreaterThan(0);
  });

  it('is removed when a person is forgotten (erasure), and the next refresh leaves the person out', async () => {
    const engine = new DuckDbEngine(await connection, lake);
    const tiles = engine.tiles(state);
    const partials = join(state, 'tiles', 'partials', 'partials.parquet');
    expect((await stat(partials)).size).toBeGreaterThan(0);
    await tiles.forget(['ann']);
    await expect(stat(partials)).rejects.toThrow();
    await expect(stat(join(state, 'tiles', 'partials', 'partials.json'))).rejects.toThrow();
    const last = await refresh(START + 15 * DAY_MS, CATALOG, ['ann']);
    expect(last.moved).toEqual([]);
  });
  it('keeps one row per identity key, and computes again partials of the earlier layout (a row per use and key)', async () => {
    // GIVEN carried partials whose record has no layout, as the earlier layout's record had none
    const file = join(state, 'tiles', 'partials', 'partials.json');
    const { layout, ...earlier } = JSON.parse(await readFile(file, 'utf8')) as { layout?: string };
    expect(layout).toBe('wide');
    await writeFile(file, JSON.stringify(earlier));
    await addFile(lake, 15, 'events.jsonl', dayEvents(15));
    // WHEN the next refresh runs THEN every use is computed from its tiles (no column misread) and members equal the full ones
    const last = await refresh(START + 16 * DAY_MS, CATALOG, ['ann']);
    expect(last.moved).toEqual([]);
    expect(last.fresh.length).toBeGreaterThan(2);
    // AND the rewritten partials hold one row per identity key, one column per use
    const partials = join(state, 'tiles', 'partials', 'partials.parquet');
    const reader = await (await connection).runAndReadAll(
      `SELECT count(*) AS n, count(DISTINCT (source, user_key)) AS keys FROM read_parquet('${partials}')`,
    );
    const [row] = reader.getRowObjects();
    expect(Number(row?.n)).toBeGreaterThan(1);
    expect(Number(row?.n)).toBe(Number(row?.keys));
  });

  it('writes the count columns delta-encoded in Parquet v2 pages, without dictionaries (cheaper to write)', async () => {
    // GIVEN the partials the refreshes above wrote WHEN their column chunks are read THEN every count column is delta-encoded
    const partials = join(state, 'tiles', 'partials', 'partials.parquet');
    const reader = await (await connection).runAndReadAll(
      `SELECT path_in_schema AS column_name, encodings FROM parquet_metadata('${partials}') WHERE path_in_schema LIKE 'n%'`,
    );
    const chunks = reader.getRowObjects();
    expect(chunks.length).toBeGreaterThan(0);
    for (const chunk of chunks) expect(String(chunk.encodings), String(chunk.column_name)).toBe('DELTA_BINARY_PACKED');
  });
});
