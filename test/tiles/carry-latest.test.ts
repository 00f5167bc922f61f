import { appendFile, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { DAY_MS, dayOf } from '../../shared/tiles/day-split.ts';
import { tempDir } from '../support/cli.ts';
import { type EventRow, writeLake } from '../support/lake.ts';
import { TileComparison } from './compare-tiles.ts';

const definition = (id: string, rule: string) => ({
  path: `definitions/${id}.yaml`,
  text: `id: ${id}\nname: ${id}\nowner: tiles\npurpose: carry test\ncadence: daily\nrule:\n${rule}\n`,
});

/** All-history `latest` uses (no window, and `before`), which are carried, and a windowed one, which is not. */
const CATALOG = buildCatalog([
  definition('on_pro', '  latest: {event: plan_set, property: plan}\n  eq: pro'),
  definition('was_pro', '  latest: {event: plan_set, property: plan, before: 2d}\n  eq: pro'),
  definition('pro_lately', '  latest: {event: plan_set, property: plan, within: 3d}\n  eq: pro'),
]).definitions;

const START = Date.parse('2024-03-01T00:00:00Z');
const at = (day: number, hour: number) => new Date(START + day * DAY_MS + hour * 3_600_000).toISOString();
const planSet = (id: string, user: string, day: number, hour: number, plan: string): EventRow => ({
  event_id: id,
  source: 'app',
  user_id: user,
  event_name: 'plan_set',
  ts: at(day, hour),
  properties: { plan },
});

/** Day `day`'s plan changes: ann and bob switch plans every day; cy and dee change theirs only where the tests say. */
const dayEvents = (day: number): EventRow[] => [
  planSet(`ann-${day}`, 'ann', day, 9, day % 2 === 0 ? 'pro' : 'free'),
  planSet(`bob-${day}`, 'bob', day, 15, day % 3 === 0 ? 'free' : 'pro'),
];

async function addFile(lake: string, day: number, name: string, rows: readonly EventRow[]): Promise<string> {
  const dir = join(lake, 'events', `dt=${dayOf(START + day * DAY_MS)}`);
  await mkdir(dir, { recursive: true });
  const file = join(dir, name);
  await appendFile(file, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return file;
}

describe('all-history latest rows carried from one tiled refresh to the next', () => {
  let lake: string;
  let state: string;
  const connection = openDuckDb();

  /** Builds the tiles as of `asOf`, compares the tiled query (also over the carried rows) with the full one; what the carry did. */
  async function refresh(asOf: number) {
    const comparison = new TileComparison(await connection, lake, CATALOG, state);
    await comparison.build(asOf);
    const tiled = await comparison.compareRefresh(asOf);
    const members = (await (await connection).runAndReadAll(tiled.sql))
      .getRowObjects()
      .filter((row) => row.c_on_pro === true)
      .map((row) => String(row.person_id))
      .sort();
    return { ...comparison.carryLatest.last, members };
  }

  beforeAll(async () => {
    lake = await tempDir();
    state = await tempDir();
    // cy: pro on day 1 and nothing after (a late file will change that); dee: free on day 2, pro on day 4 in a file of its own
    await writeLake(lake, [...Array.from({ length: 6 }, (_, day) => dayEvents(day)).flat(), planSet('cy-1', 'cy', 1, 10, 'pro')], []);
    await addFile(lake, 2, 'dee.jsonl', [planSet('dee-2', 'dee', 2, 10, 'free')]);
    await addFile(lake, 4, 'dee.jsonl', [planSet('dee-4', 'dee', 4, 10, 'pro')]);
  });

  it('computes them from the tiles, then moves them by the day entering, equal to the full computation', async () => {
    const first = await refresh(START + 6 * DAY_MS);
    expect(first.fresh).toHaveLength(2);
    expect(first.members).toEqual(['ann', 'bob', 'cy', 'dee'].filter((u) => u !== 'ann' || 5 % 2 === 0));
    await addFile(lake, 6, 'events.jsonl', dayEvents(6));
    const next = await refresh(START + 7 * DAY_MS);
    expect(next.moved).toHaveLength(2);
    expect(next.fresh).toEqual([]);
    expect(next.members).toEqual(['ann', 'bob', 'cy', 'dee'].filter((u) => u !== 'bob'));
  });

  it('computes them again when an old day gains a late event that becomes the latest of its key', async () => {
    // GIVEN a late file on day 3 where cy, pro since day 1, turns free (and the next day lands)
    await addFile(lake, 3, 'late.jsonl', [planSet('cy-3', 'cy', 3, 10, 'free')]);
    await addFile(lake, 7, 'events.jsonl', dayEvents(7));
    // WHEN the next refresh runs
    const last = await refresh(START + 8 * DAY_MS);
    // THEN the carried rows are computed from the tiles again and cy is no member (compareRefresh: as the full computation)
    expect(last.moved).toEqual([]);
    expect(last.fresh).toHaveLength(2);
    expect(last.members).not.toContain('cy');
  });

  it('computes them again when the file holding a key latest event is removed from an old day', async () => {
    // GIVEN dee's pro of day 4 (the latest of her key) removed: her latest is day 2's free
    expect(await readFile(join(lake, 'events', `dt=${dayOf(START + 4 * DAY_MS)}`, 'dee.jsonl'), 'utf8')).toContain('dee-4');
    await rm(join(lake, 'events', `dt=${dayOf(START + 4 * DAY_MS)}`, 'dee.jsonl'));
    await addFile(lake, 8, 'events.jsonl', dayEvents(8));
    // WHEN the next refresh runs THEN dee is no member, as in the full computation
    const last = await refresh(START + 9 * DAY_MS);
    expect(last.moved).toEqual([]);
    expect(last.members).not.toContain('dee');
    // AND the refresh after it moves the rows again
    await addFile(lake, 9, 'events.jsonl', dayEvents(9));
    expect((await refresh(START + 10 * DAY_MS)).moved).toHaveLength(2);
  });
});
