import { COPY_ORDER } from '../compiler/compile-refresh.ts';
import type { Dialect } from '../compiler/dialect.ts';
import { scopeParts } from '../compiler/event-scope.ts';
import { propertyJsonItem, propertyNumberItem, propertyValueItems, validEventLines } from '../compiler/event-rows.ts';
import { partitionDate } from '../compiler/partition-date.ts';
import { conjunction, type PropertyValue, propertyPredicate } from '../compiler/predicates.ts';
import { stringLiteral } from '../compiler/sql-text.ts';
import { DAY_MS } from './day-split.ts';
import type { InstantRange, TileMeasure } from './measures.ts';

/**
 * The columns of a tile row, in order. One long layout for every measure: `n` for count and
 * presence; `total`, `abs_total`, `integral` for sum; one row per distinct `value`; the winning
 * event's `latest_ts`, `latest_event_id`, `latest_json` for latest.
 */
export const TILE_COLUMNS = [
  'measure',
  'source',
  'user_key',
  'n',
  'total',
  'abs_total',
  'integral',
  'value',
  'latest_ts',
  'latest_event_id',
  'latest_json',
] as const;

/** The measure id of the presence rows (valid events, before de-duplication): the population. */
export const PRESENCE = 'presence';

/** Which event ids a partial aggregate reads (see {@link PartialsRequest.contested}). */
export type IdSelection = 'uncontested' | 'contested';

/** What {@link partialsSql} aggregates. */
export interface PartialsRequest {
  readonly measures: readonly TileMeasure[];
  readonly dialect: Dialect;
  /** The events relation (LakeRelations.events shape). */
  readonly events: string;
  /** The instants aggregated. */
  readonly range: { readonly from?: number; readonly to: number };
  /** The instants de-duplication chooses among (contains `range`; the full scan's `[start, T)`). */
  readonly dedup: InstantRange;
  /**
   * A relation with one `event_id` column: the ids whose valid copies lie on more than one UTC day.
   * `uncontested` leaves them out (tiles, edge days), `contested` reads only them.
   */
  readonly contested: string;
  readonly ids: IdSelection;
  /** Also emit presence rows (every valid event in `range`, before de-duplication). */
  readonly presence: boolean;
  /**
   * Several days in one pass: every row also carries its UTC `day` and is grouped by it. Exact for
   * uncontested ids, whose valid copies all lie on one day.
   */
  readonly byDay?: boolean;
  /** The as-of instant, for a measure whose `where` has a date operator (read raw at one as-of, never tiled). */
  readonly asOf?: number;
}

/** Typed NULLs of the tile columns' types in a dialect. */
export const typedNull = (d: Dialect) => ({
  n: 'CAST(NULL AS BIGINT)',
  total: 'CAST(NULL AS DOUBLE)',
  integral: 'CAST(NULL AS BOOLEAN)',
  text: 'CAST(NULL AS VARCHAR)',
  // A NULL of the dialect's instant type, without naming the type.
  instant: `CASE WHEN FALSE THEN ${d.timestamp(0)} END`,
});

/** The `dt` partitions that can hold events of `[from, to)` (one day of slack each side). */
export function partitionBounds(range: InstantRange): string {
  const parts = [`dt <= ${stringLiteral(partitionDate(range.to - 1 + DAY_MS))}`];
  if (range.from !== undefined) parts.unshift(`dt >= ${stringLiteral(partitionDate(range.from - DAY_MS))}`);
  return parts.join(' AND ');
}

const within = (d: Dialect, column: string, range: InstantRange) =>
  [...(range.from === undefined ? [] : [`${column} >= ${d.timestamp(range.from)}`]), `${column} < ${d.timestamp(range.to)}`].join(' AND ');

/** Valid events (SPEC section 1) of a range, with the normalized id as `user_key`. */
export function validEventsSql(d: Dialect, events: string, range: InstantRange): string {
  const scan = { events, partitions: partitionBounds(range), extra: ['properties', 'value'], from: range.from, to: range.to };
  return validEventLines(d, scan).join('\n');
}

/** The property names the measures read, each once, sorted. */
export function propertyNames(measures: readonly TileMeasure[]): string[] {
  const names = new Set<string>();
  for (const m of measures) {
    for (const w of m.scope.where) names.add(w.property);
    if ('of' in m.aggregate && m.aggregate.of !== undefined) names.add(m.aggregate.of);
  }
  return [...names].sort();
}

/**
 * Partial aggregates per measure and identity key over the valid, de-duplicated events of a range,
 * as rows of {@link TILE_COLUMNS}: a day's tile (range and dedup: that day) or the raw part of a
 * window (a partial day, or the contested copies). Property values are read as the compiler reads
 * them (the dialect's extraction, SPEC text, numeric test).
 */
export function partialsSql(request: PartialsRequest): string {
  const d = request.dialect;
  const names = propertyNames(request.measures);
  const p = (name: string) => names.indexOf(name);
  const value = (name: string): PropertyValue => ({ text: `e.p${p(name)}_t`, number: `e.p${p(name)}_n`, present: `e.p${p(name)}_x` });
  const choose = request.ids === 'contested' ? 'IN' : 'NOT IN';
  const nul = typedNull(d);
  const byDay = request.byDay === true;
  const day = byDay ? `, ${d.utcDay('ts')} AS day` : '';
  const key = byDay ? 'e.source, e.user_key, e.day' : 'e.source, e.user_key';
  const ctes = [
    `valid AS (\n${validEventsSql(d, request.events, request.dedup)}\n)`,
    `deduped AS (\n  SELECT * FROM (\n    SELECT v.*, row_number() OVER (PARTITION BY event_id ORDER BY ${COPY_ORDER.join(', ')}) AS copy_no\n` +
      `    FROM valid AS v WHERE event_id ${choose} (SELECT event_id FROM ${request.contested})\n  ) AS numbered_copies\n` +
      `  WHERE copy_no = 1 AND ${within(d, 'ts', request.range)}\n)`,
    `extracted AS (\n  SELECT source, user_key, event_id, event_name, ts, value${day}${d
      .extractProperties('e.properties', names)
      .map((s) => `, ${s}`)
      .join('')}\n  FROM deduped AS e\n)`,
    `typed AS (\n  SELECT source, user_key, event_id, event_name, ts, value${byDay ? ', day' : ''}${names.map((_, i) => `, ${propertyJsonItem(d, i)}`).join('')}\n  FROM extracted\n)`,
    `valued AS (\n  SELECT *${names.flatMap((_, i) => propertyValueItems(d, i).map((item) => `, ${item}`)).join('')}\n  FROM typed\n)`,
    `scored AS (\n  SELECT *${names.map((_, i) => `, ${propertyNumberItem(d, i)}`).join('')}\n  FROM valued\n)`,
  ];
  const row = (measure: string, cols: Partial<Record<(typeof TILE_COLUMNS)[number], string>>) =>
    [
      `${stringLiteral(measure)} AS measure`,
      'e.source AS source',
      'e.user_key AS user_key',
      ...(byDay ? ['e.day AS day'] : []),
      `${cols.n ?? nul.n} AS n`,
      `${cols.total ?? nul.total} AS total`,
      `${cols.abs_total ?? nul.total} AS abs_total`,
      `${cols.integral ?? nul.integral} AS integral`,
      `${cols.value ?? nul.text} AS value`,
      `${cols.latest_ts ?? nul.instant} AS latest_ts`,
      `${cols.latest_event_id ?? nul.text} AS latest_event_id`,
      `${cols.latest_json ?? nul.text} AS latest_json`,
    ].join(', ');
  const selects: string[] = [];
  if (request.presence) {
    selects.push(
      `SELECT ${row(PRESENCE, { n: 'count(*)' })}\nFROM (SELECT *${day} FROM (${validEventsSql(d, request.events, request.range)}) AS p) AS e\nGROUP BY ${key}`,
    );
  }
  for (const m of request.measures) {
    const match = matchSql(m, d, value, request.asOf);
    const where = (extra: string[]) => conjunction([match, ...extra]);
    const a = m.aggregate;
    switch (a.kind) {
      case 'count':
        selects.push(`SELECT ${row(m.id, { n: 'count(*)' })}\nFROM scored AS e WHERE ${where([])}\nGROUP BY ${key}`);
        break;
      case 'sum': {
        const x = a.of === undefined ? 'e.value' : value(a.of).number;
        selects.push(
          `SELECT ${row(m.id, { n: 'count(*)', total: `sum(${x})`, abs_total: `sum(abs(${x}))`, integral: `bool_and(${x} = floor(${x}))` })}\n` +
            `FROM scored AS e WHERE ${where([`${x} IS NOT NULL`])}\nGROUP BY ${key}`,
        );
        break;
      }
      case 'distinct': {
        const text = value(a.of).text;
        selects.push(
          `SELECT ${row(m.id, { value: text })}\nFROM scored AS e WHERE ${where([`${text} IS NOT NULL`])}\nGROUP BY ${key}, ${text}`,
        );
        break;
      }
      case 'latest':
      case 'earliest': {
        // A partial's `latest_*` columns hold the winning event: the last one, or the first for earliest.
        const json = `e.p${p(a.of)}_j`;
        const by = (v: string) => (a.kind === 'latest' ? d.latestBy : d.earliestBy)(v, 'e.ts', 'e.event_id');
        selects.push(
          `SELECT ${row(m.id, { latest_ts: by('e.ts'), latest_event_id: by('e.event_id'), latest_json: by(json) })}\n` +
            `FROM scored AS e WHERE ${where([value(a.of).present])}\nGROUP BY ${key}`,
        );
        break;
      }
    }
  }
  if (selects.length === 0) selects.push(`SELECT ${row(PRESENCE, {})}\nFROM scored AS e WHERE FALSE`);
  return `WITH ${ctes.join(',\n')}\n${selects.join('\nUNION ALL\n')}`;
}

/**
 * Whether an event of `e` lies in a measure's scope (names, sources, `where`); a date operator
 * in `where` needs the as-of instant (such a measure is read raw, see measures.ts readsRaw).
 */
export function matchSql(measure: TileMeasure, dialect: Dialect, value: (name: string) => PropertyValue, asOf?: number): string {
  const parts = scopeParts(measure.scope, dialect);
  const instant = asOf === undefined ? undefined : { dialect, instant: asOf };
  for (const { property, ops } of measure.scope.where) parts.push(propertyPredicate(value(property), ops, instant));
  return conjunction(parts);
}

/** The last instant a lake-wide scan admits: every event of the lake. */
const END_OF_DATES = Date.UTC(9999, 11, 31);

/**
 * The contested event ids with each UTC day that holds one of their valid copies: ids whose
 * valid copies lie on more than one day, which tiles leave out (one narrow scan of the lake).
 */
export function contestedDaysSql(d: Dialect, events: string): string {
  const valid = validEventsSql(d, events, { to: END_OF_DATES });
  return (
    `SELECT event_id, day FROM (SELECT DISTINCT event_id, ${d.utcDay('ts')} AS day FROM (${valid}) AS v) AS copies\n` +
    `WHERE event_id IN (SELECT event_id FROM (SELECT DISTINCT event_id, ${d.utcDay('ts')} AS day FROM (${valid}) AS w) AS c GROUP BY event_id HAVING count(*) > 1)`
  );
}

/**
 * Every raw row (any validity) of the ids in `contestedDays` (a relation with `event_id`, such as
 * {@link contestedDaysSql}), from the `partitions` given (those that can hold their valid copies)
 * or from the whole lake.
 */
export function contestedCopiesSql(events: string, contestedDays: string, partitions?: readonly string[]): string {
  const dts =
    partitions === undefined ? '' : `${partitions.length === 0 ? 'FALSE' : `dt IN (${partitions.map(stringLiteral).join(', ')})`} AND `;
  return `SELECT event_id, source, user_id, event_name, ts, properties, value, dt FROM ${events} AS lake_events WHERE ${dts}event_id IN (SELECT event_id FROM ${contestedDays})`;
}

/** No tile rows, with the tile columns' types and `day`: the tiles of a refresh that has no whole day yet. */
export function noTilesSql(d: Dialect): string {
  const nul = typedNull(d);
  const types: Record<(typeof TILE_COLUMNS)[number], string> = {
    measure: nul.text,
    source: nul.text,
    user_key: nul.text,
    n: nul.n,
    total: nul.total,
    abs_total: nul.total,
    integral: nul.integral,
    value: nul.text,
    latest_ts: nul.instant,
    latest_event_id: nul.text,
    latest_json: nul.text,
  };
  return `(SELECT ${TILE_COLUMNS.map((c) => `${types[c]} AS ${c}`).join(', ')}, ${nul.text} AS day WHERE FALSE)`;
}
