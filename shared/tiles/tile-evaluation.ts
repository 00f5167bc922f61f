import type { Dialect } from '../compiler/dialect.ts';
import { numberOfTextSql } from '../compiler/event-rows.ts';
import { periodsPredicate } from '../compiler/periods.ts';
import { boundsHoldForInfinity, boundsPredicate, propertyPredicate } from '../compiler/predicates.ts';
import { stringLiteral } from '../compiler/sql-text.ts';
import type { Leaf } from '../language/condition-leaves.ts';
import { DAY_MS, dayOf, splitWindow } from './day-split.ts';
import { type InstantRange, leafUses, type MeasureUse, readsRaw } from './measures.ts';
import { PRESENCE, partialsSql, TILE_COLUMNS } from './tile-sql.ts';
import { identityMapSql } from './tiled-selects.ts';

/** Where a tiled evaluation reads. Every relation is built by an engine adapter from validated locations. */
export interface TileSources {
  readonly dialect: Dialect;
  /** The lake's events relation (raw edge days). */
  readonly events: string;
  /** The lake's identities relation. */
  readonly identities: string;
  /** Tile rows ({@link TILE_COLUMNS}) with a `day` column (YYYY-MM-DD) for every day that has a tile. */
  readonly tiles: string;
  /** One `event_id` column: ids with valid copies on more than one UTC day. */
  readonly contestedIds: string;
  /** The events relation holding every copy of the contested ids. */
  readonly contestedEvents: string;
  readonly asOf: number;
  /** The full computation's scan start (measures.ts scanStart): contested copies are de-duplicated over `[scanStart, T)`. */
  readonly scanStart?: number;
}

const MAX_EXACT = 2 ** 53;
const COLUMNS = TILE_COLUMNS.filter((c) => c !== 'measure').join(', ');

const dayBounds = (range: InstantRange) =>
  [...(range.from === undefined ? [] : [`day >= ${stringLiteral(dayOf(range.from))}`]), `day < ${stringLiteral(dayOf(range.to))}`].join(
    ' AND ',
  );

/** The partial rows of one measure over a window: tiles of its whole days, raw partial days, contested copies. */
function useParts(src: TileSources, use: MeasureUse): string {
  const { measure, range } = use;
  const common = { measures: [measure], dialect: src.dialect, contested: src.contestedIds, presence: false, asOf: src.asOf };
  const contestedDedup = { ...(src.scanStart === undefined ? {} : { from: src.scanStart }), to: src.asOf };
  const contested = partialsSql({ ...common, events: src.contestedEvents, range, dedup: contestedDedup, ids: 'contested' });
  if (readsRaw(measure)) {
    // No tiles: the uncontested events of the whole window, de-duplicated over the full scan, as the tiled query reads them.
    const raw = partialsSql({ ...common, events: src.events, range, dedup: contestedDedup, ids: 'uncontested' });
    return [`SELECT ${COLUMNS} FROM (${raw}) AS raw`, `SELECT ${COLUMNS} FROM (${contested}) AS contested`].join('\nUNION ALL\n');
  }
  const split = splitWindow(range);
  const parts: string[] = [];
  if (split.wholeDays) {
    parts.push(`SELECT ${COLUMNS} FROM ${src.tiles} AS t WHERE measure = ${stringLiteral(measure.id)} AND ${dayBounds(split.wholeDays)}`);
  }
  for (const segment of split.segments) {
    // An uncontested id has all its valid copies on one day: de-duplicating within that day
    // (inside the scan) chooses the copy the full computation chooses.
    const dayStart = Math.floor(segment.from / DAY_MS) * DAY_MS;
    const dedup = { from: Math.max(dayStart, src.scanStart ?? dayStart), to: Math.min(dayStart + DAY_MS, src.asOf) };
    const sql = partialsSql({ ...common, events: src.events, range: segment, dedup, ids: 'uncontested' });
    parts.push(`SELECT ${COLUMNS} FROM (${sql}) AS edge`);
  }
  parts.push(`SELECT ${COLUMNS} FROM (${contested}) AS contested`);
  return parts.join('\nUNION ALL\n');
}

/** Per person: `v` (count, sum or distinct; the latest JSON for latest) and whether a sum is exact. */
function useValues(src: TileSources, use: MeasureUse): string {
  const d = src.dialect;
  const a = use.measure.aggregate;
  const columns =
    a.kind === 'count'
      ? 'sum(x.n) AS v, TRUE AS exact'
      : a.kind === 'sum'
        ? `sum(x.total) AS v, coalesce(bool_and(x.integral), TRUE) AND coalesce(sum(x.abs_total), 0) < ${MAX_EXACT} AS exact`
        : a.kind === 'distinct'
          ? 'count(DISTINCT x.value) AS v, TRUE AS exact'
          : `${(a.kind === 'latest' ? d.latestBy : d.earliestBy)('x.latest_json', 'x.latest_ts', 'x.latest_event_id')} AS v, TRUE AS exact`;
  return `SELECT coalesce(m.person_id, x.user_key) AS person_id, ${columns}\nFROM (${useParts(src, use)}) AS x\nLEFT JOIN identity_map AS m ON m.source = x.source AND m.user_key = x.user_key\nGROUP BY coalesce(m.person_id, x.user_key)`;
}

/** The population at T from presence rows: tiles of every day before T's day, raw events of T's day. */
function presence(src: TileSources): string {
  const dayStart = Math.floor(src.asOf / DAY_MS) * DAY_MS;
  const parts = [
    `SELECT source, user_key FROM ${src.tiles} AS t WHERE measure = ${stringLiteral(PRESENCE)} AND ${dayBounds({ to: dayStart })}`,
  ];
  if (dayStart < src.asOf) {
    const range = { from: dayStart, to: src.asOf };
    const sql = partialsSql({
      measures: [],
      dialect: src.dialect,
      events: src.events,
      range,
      dedup: range,
      contested: src.contestedIds,
      ids: 'uncontested',
      presence: true,
    });
    parts.push(`SELECT source, user_key FROM (${sql}) AS today WHERE measure = ${stringLiteral(PRESENCE)}`);
  }
  return parts.join('\nUNION ALL\n');
}

/** A leaf's test over its uses' values `u0.v`, `u1.v` (the compiler's semantics: no events is 0). */
function leafPredicate(leaf: Leaf, d: Dialect, asOf: number): string {
  switch (leaf.kind) {
    case 'event':
      return boundsPredicate('coalesce(u0.v, 0)', leaf.measure.bounds);
    case 'latest':
    case 'earliest': {
      const text = d.scalarText('u0.v');
      const value = {
        text,
        present: 'u0.v IS NOT NULL',
        number: numberOfTextSql(d, text),
      };
      return propertyPredicate(value, leaf.ops, { dialect: d, instant: asOf });
    }
    case 'velocity': {
      const [current, previous] = ['coalesce(u0.v, 0)', 'coalesce(u1.v, 0)'];
      const infinite = boundsHoldForInfinity(leaf.bounds) ? ` WHEN ${current} > 0 THEN TRUE` : '';
      return `(CASE WHEN ${previous} > 0 THEN ${boundsPredicate(`CAST(${current} AS DOUBLE) / ${previous}`, leaf.bounds)}${infinite} ELSE FALSE END)`;
    }
    case 'periods':
      return periodsPredicate(
        Array.from({ length: leaf.periods.count }, (_, i) => `coalesce(u${i}.v, 0)`),
        leaf.bounds,
        leaf.periods,
      );
    case 'cohort':
      throw new Error('a cohort reference is not a measure: combine the referenced cohort instead');
    case 'sequence':
      throw new Error('a sequence has no tiles: it reads raw events over its window (tiled-sequences.ts)');
    case 'list':
      throw new Error('a list is not a measure: it needs no tiles (membership is a join)');
  }
}

/**
 * One leaf evaluated from tiles: one row per person of the population with `member` (the leaf
 * holds) and `exact` (false when a sum could not be combined exactly: the leaf must read raw).
 */
export function tiledLeafSql(src: TileSources, leaf: Leaf): string {
  const uses = leafUses(leaf, src.asOf);
  const ctes = [
    `identity_map AS (\n${identityMapSql(src.dialect, src.identities)}\n)`,
    `population AS (\n  SELECT DISTINCT coalesce(m.person_id, x.user_key) AS person_id\n  FROM (${presence(src)}) AS x\n  LEFT JOIN identity_map AS m ON m.source = x.source AND m.user_key = x.user_key\n)`,
    ...uses.map((use, i) => `u${i} AS (\n${useValues(src, use)}\n)`),
  ];
  const joins = uses.map((_, i) => `\nLEFT JOIN u${i} ON u${i}.person_id = p.person_id`).join('');
  const exact = uses.length === 0 ? 'TRUE' : uses.map((_, i) => `coalesce(u${i}.exact, TRUE)`).join(' AND ');
  return `WITH ${ctes.join(',\n')}\nSELECT p.person_id, ${leafPredicate(leaf, src.dialect, src.asOf)} AS member, ${exact} AS exact\nFROM population AS p${joins}`;
}
