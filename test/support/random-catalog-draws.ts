import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { DAY_MS, dayOf } from '../../shared/tiles/day-split.ts';
import type { EventRow } from './lake.ts';
import { seededRandom } from './seeded-random.ts';

/**
 * Catalogs and lakes drawn at random from fixed seeds, for random-catalogs.test.ts (tiles against the
 * full computation) and random-oracle.test.ts (the full computation against the SPEC oracle), which
 * draw the same: every leaf form of SPEC section 4 (event leaves with each window key, source, where
 * and measure; latest; velocity; the combinators and references), over lakes with duplicate ids
 * (identical and differing copies), events filed under the next day's partition, events on window
 * bounds, twins at the same instant (latest's tie rule), numbers given as text and nulls.
 */

/** Milliseconds in an hour. */
export const HOUR_MS = 3_600_000;
/** The first day of every lake (a Monday, UTC). */
export const START = Date.parse('2025-01-06T00:00:00Z');
/** How many days a lake has. */
export const DAYS = 8;
/**
 * Fixed seeds, so every run draws the same; `RANDOM_SEEDS=7,8,9` draws others. Since the lakes have
 * events on window bounds and twins (session 26), 1 to 12 agreed for the tiles and 1 to 60 against the oracle.
 */
export const SEEDS = process.env.RANDOM_SEEDS ? process.env.RANDOM_SEEDS.split(',').map(Number) : [1, 2, 3, 4, 5, 6];

/** The seeded generator, with integers and picks. */
export function random(seed: number) {
  const next = seededRandom(seed * 7919 + 17);
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  return { next, int, pick };
}
/** A seeded generator of {@link random}. */
export type Random = ReturnType<typeof random>;

const USERS = ['ann', 'bob', 'cy', ' Dee@X.com ', 'eli', 'fay', 'gus', 'hal', 'ivy', 'jo', 'kim', 'lu'];
const NAMES = ['login', 'buy', 'view', 'plan_changed'];

/**
 * A time of day drawn in milliseconds, moved for one event in four onto a whole hour or 1 ms before
 * one: the as-ofs and window durations are whole hours, so SPEC section 2's bounds (`T - D <= ts`,
 * `ts < T`) meet events exactly on them. It draws no number of its own.
 */
function onTheHourNowAndThen(drawn: number): number {
  const hour = drawn - (drawn % HOUR_MS);
  if (drawn % 8 === 0) return hour;
  if (drawn % 8 === 1) return hour - 1;
  return drawn;
}

/** One event of `user` with drawn name, properties, source and value; `time` draws its instant (ms). */
function drawnEvent(r: Random, eventId: string, user: string, time: () => number): EventRow {
  const name = r.pick(NAMES);
  const properties: Record<string, unknown> = {};
  if (r.next() < 0.7) properties.plan = r.pick(['basic', 'pro', 'team', null]);
  if (r.next() < 0.6) properties.tip = r.pick([0.25, 1, 2.5, '3', 'n/a', null, 4]);
  if (r.next() < 0.6) properties.feature = r.pick(['a', 'b', 'c', 1]);
  if (r.next() < 0.4) properties.seats = r.int(1, 12);
  return {
    event_id: eventId,
    source: r.pick(['app', 'shop', 'crm']),
    user_id: user,
    event_name: name,
    ts: new Date(time()).toISOString(),
    properties,
    ...(r.next() < 0.6 ? { value: r.pick([1, 2, 5, 12, 0.5]) } : {}),
  };
}

/**
 * People with one or two events, each at midnight or on a whole hour (or 1 ms before): for them an
 * event exactly on a window's bound decides membership, which the busy users' many events hide.
 */
const SPARSE_USERS = Array.from({ length: 48 }, (_, i) => `edge${i}`);

/** A seed's events: the busy users' days, the sparse users', then copies of some event ids, then twins. */
export function lakeRows(r: Random): EventRow[] {
  const rows: EventRow[] = [];
  for (let day = 0; day < DAYS; day++) {
    for (const user of USERS) {
      for (let i = r.int(0, 3); i > 0; i--) {
        rows.push(drawnEvent(r, `e${rows.length}`, user, () => START + day * DAY_MS + onTheHourNowAndThen(r.int(0, DAY_MS - 1))));
      }
    }
  }
  for (const user of SPARSE_USERS) {
    for (let i = r.int(1, 2); i > 0; i--) {
      const onBound = () => START + r.int(0, DAYS) * DAY_MS + (r.next() < 0.7 ? 0 : r.int(0, 23) * HOUR_MS) - (r.next() < 0.25 ? 1 : 0);
      rows.push(drawnEvent(r, `e${rows.length}`, user, onBound));
    }
  }
  // Copies of an event id: identical ones, and differing ones (another user, later) of which one counts.
  const copies = rows
    .filter(() => r.next() < 0.08)
    .map((row) =>
      r.next() < 0.5 ? row : { ...row, user_id: r.pick(USERS), ts: new Date(Date.parse(row.ts) + r.int(1, 40) * HOUR_MS).toISOString() },
    );
  // Twins: another event of the same person, source and name at the same instant, its plan drawn again,
  // so that `latest`'s tie rule decides (the greatest event_id in byte order, SPEC section 4: `e95` beats
  // its twin `e210`). Drawn after the copies, so the rows before them are as they were.
  const twins = rows
    .filter(() => r.next() < 0.1)
    .map((row, i) => ({
      ...row,
      event_id: `e${rows.length + i}`,
      properties: { ...row.properties, plan: r.pick(['basic', 'pro', 'team', null]) },
    }));
  return [...rows, ...copies, ...twins];
}

const duration = (r: Random) => (r.next() < 0.3 ? `${r.int(3, 60)}h` : `${r.int(1, 6)}d`);

function window(r: Random): string[] {
  const kind = r.pick(['none', 'within', 'within', 'before', 'between']);
  if (kind === 'none') return [];
  if (kind === 'between') {
    const late = r.int(1, 3);
    return [`between: [${late + r.int(1, 4)}d, ${late}d]`];
  }
  return [`${kind}: ${duration(r)}`];
}

function where(r: Random): string[] {
  if (r.next() < 0.6) return [];
  return [
    `where: ${r.pick([
      '{plan: pro}',
      '{plan: {in: [pro, team]}}',
      '{seats: {gte: 5}}',
      '{tip: {exists: true}}',
      '{feature: {neq: a}}',
      '{tip: {gt: 0.5}}',
    ])}`,
  ];
}

function eventLeaf(r: Random): string[] {
  const event = r.pick(['login', 'buy', 'view', '"*"', '[login, view]']);
  const source = r.next() < 0.25 ? [`source: ${r.pick(['app', 'shop', '[app, crm]'])}`] : [];
  const measure = r.pick([
    [],
    [`count: {gte: ${r.int(1, 4)}}`],
    [`count: {lt: ${r.int(1, 3)}}`],
    [`sum: {gte: ${r.pick([2, 5, 10.5])}}`],
    [`sum: {of: tip, gte: ${r.pick([1, 2.75, 4])}}`],
    [`sum: {of: seats, lte: ${r.int(3, 20)}}`],
    [`distinct: {of: ${r.pick(['feature', 'plan'])}, gte: ${r.int(1, 3)}}`],
  ]);
  return [`event: ${event}`, ...source, ...where(r), ...window(r), ...measure];
}

function latestLeaf(r: Random): string[] {
  const within = r.next() < 0.5 ? `, within: ${r.int(1, 6)}d` : '';
  const test = r.pick(['eq: pro', 'in: [pro, team]', 'neq: basic', 'exists: true']);
  return [`latest: {event: ${r.pick(['plan_changed', 'buy', '"*"'])}, property: plan${within}}`, test];
}

function velocityLeaf(r: Random): string[] {
  return [
    `velocity: {event: ${r.pick(['login', '"*"'])}, window: ${r.int(1, 3)}d}`,
    `${r.pick(['gt', 'lte', 'gte'])}: ${r.pick([0.5, 1, 2])}`,
  ];
}

/** A condition as YAML lines (unindented); `earlier`: ids it may reference. */
function condition(r: Random, earlier: readonly string[], depth: number): string[] {
  const roll = r.next();
  if (depth < 2 && roll < 0.3) {
    const parts = [condition(r, earlier, depth + 1), condition(r, earlier, depth + 1)];
    return [`${r.pick(['all', 'any'])}:`, ...parts.flatMap(([first, ...rest]) => [`  - ${first}`, ...rest.map((l) => `    ${l}`)])];
  }
  if (depth < 2 && roll < 0.4) return ['not:', ...condition(r, earlier, depth + 1).map((l) => `  ${l}`)];
  if (earlier.length > 0 && roll < 0.5) return [`cohort: ${r.pick(earlier)}`];
  if (roll < 0.65) return latestLeaf(r);
  if (roll < 0.75) return velocityLeaf(r);
  return eventLeaf(r);
}

/** Six cohorts, each of one random condition that may reference the earlier ones; their YAML texts and definitions. */
export function catalog(r: Random) {
  const ids: string[] = [];
  const files = [];
  for (let i = 0; i < 6; i++) {
    const id = `cohort_${i}`;
    const rule = condition(r, ids, 0).map((l) => `  ${l}`);
    files.push({
      path: `definitions/${id}.yaml`,
      text: `id: ${id}\nname: ${id}\nowner: random\npurpose: random catalog\ncadence: daily\nrule:\n${rule.join('\n')}\n`,
    });
    ids.push(id);
  }
  const built = buildCatalog(files);
  expect(built.problems, files.map((f) => f.text).join('\n')).toEqual([]);
  return { definitions: built.definitions, texts: files.map((f) => f.text), text: files.map((f) => f.text).join('---\n') };
}

/** Writes `rows` as JSONL under their `dt` partitions, some under the next day's. */
export async function writeLake(lake: string, rows: readonly EventRow[], r: Random): Promise<void> {
  for (const row of rows) {
    // An event filed under the next day's partition now and then (SPEC: a day's reader reads d-1..d+1).
    const ts = Date.parse(row.ts);
    const dt = dayOf(ts + (r.next() < 0.1 && ts % DAY_MS > DAY_MS - 6 * HOUR_MS ? DAY_MS : 0));
    const dir = join(lake, 'events', `dt=${dt}`);
    await mkdir(dir, { recursive: true });
    await appendFile(join(dir, 'events.jsonl'), `${JSON.stringify(row)}\n`);
  }
}

/** The three as-ofs a seed is refreshed at, rolled forward (drawn after the lake, in this order). */
export function asOfs(r: Random): number[] {
  return [START + 5 * DAY_MS + r.int(0, 23) * HOUR_MS, START + 6 * DAY_MS, START + 7 * DAY_MS + r.int(1, 23) * HOUR_MS];
}
