import { COPY_ORDER } from '../compiler/compile-refresh.ts';
import type { Dialect } from '../compiler/dialect.ts';
import { propertyJsonItem, propertyNumberItem, propertyValueItems } from '../compiler/event-rows.ts';
import type { PropertyValue } from '../compiler/predicates.ts';
import { conjunction } from '../compiler/predicates.ts';
import { stringLiteral } from '../compiler/sql-text.ts';
import { DAY_MS } from './day-split.ts';
import type { TileMeasure } from './measures.ts';
import { extractionGuard } from './tiled-parts.ts';
import { matchSql, PRESENCE, propertyNames, type TILE_COLUMNS, typedNull, validEventsSql } from './tile-sql.ts';

/** What {@link dayTilesSql} builds: the tiles of these days, from these events. */
export interface DayTilesRequest {
  readonly measures: readonly TileMeasure[];
  readonly dialect: Dialect;
  readonly events: string;
  /** The days (YYYY-MM-DD) to build: the rows hold these days only. */
  readonly days: readonly string[];
  /** The contested ids relation, left out of the tiles. */
  readonly contested: string;
  /** Also the presence rows (every valid event). @default true; false when only new measures are added to a day */
  readonly presence?: boolean;
  /**
   * The measures' GROUP BYs in the order of their ids (presence among them), so that a consumer that keeps
   * the UNION ALL's order gets the rows grouped by measure, sorted, without a sort (the local build).
   * @default false: presence first, then `measures` as given
   */
  readonly byMeasure?: boolean;
}

type Column = (typeof TILE_COLUMNS)[number];

/**
 * The valid events of `[from, to)` numbered per event_id (`copy_no` 1: the copy the full
 * computation keeps among them), as CTEs ending in `numbered`. DuckDB (`candidates`) keeps the
 * valid rows once (MATERIALIZED: their properties are checked once, not again for a second scan)
 * and numbers only the rows whose id hash repeats among them; the others are their id's only copy.
 */
function numberedCtes(d: Dialect, events: string, days: readonly string[]): string[] {
  const valid = validEventsOfDays(d, events, days);
  const numbered = (rows: string, where: string) =>
    `SELECT v.*, row_number() OVER (PARTITION BY event_id ORDER BY ${COPY_ORDER.join(', ')}) AS copy_no FROM ${rows} AS v${where}`;
  if (d.deduplication === 'window') return [`numbered AS (\n${numbered(`(${valid})`, '')}\n)`];
  const key = d.hash('event_id');
  // MATERIALIZED: grouped once, though both branches below read it.
  const repeated = '(SELECT id_hash FROM repeated_ids)';
  return [
    `valid_rows AS MATERIALIZED (\n${valid}\n)`,
    `repeated_ids AS MATERIALIZED (\n  SELECT ${key} AS id_hash FROM valid_rows GROUP BY ${key} HAVING count(*) > 1\n)`,
    `numbered AS (\nSELECT s.*, 1 AS copy_no FROM valid_rows AS s WHERE ${d.hash('s.event_id')} NOT IN (SELECT id_hash FROM ${repeated} AS r)\n` +
      `UNION ALL\n${numbered('valid_rows', ` WHERE ${d.hash('v.event_id')} IN (SELECT id_hash FROM ${repeated} AS r2)`)}\n)`,
  ];
}

/**
 * The valid events whose UTC day is one of `days`: the instants from the first day to the end of
 * the last, and where days are missing between them, a test of each row's day (once, here: a
 * filter on the tile rows would be pushed into every measure's branch and tested once per branch).
 */
function validEventsOfDays(d: Dialect, events: string, days: readonly string[]): string {
  const starts = [...new Set(days)].map((day) => Date.parse(`${day}T00:00:00Z`)).sort((a, b) => a - b);
  const range = { from: starts[0] ?? 0, to: (starts[starts.length - 1] ?? 0) + DAY_MS };
  const valid = validEventsSql(d, events, range);
  if (starts.length === (range.to - range.from) / DAY_MS) return valid;
  return `SELECT * FROM (\n${valid}\n) AS in_range WHERE ${d.utcDay('ts')} IN (${days.map(stringLiteral).join(', ')})`;
}

/**
 * The tile rows of several days in one pass over their partitions, each row with its `day`:
 * uncontested ids, de-duplicated over those days (exact: an uncontested id's valid copies all lie
 * on one day), and presence (every valid event, counted from the same rows rather
 * than from a second scan). One GROUP BY per measure over the scored rows: DuckDB keeps them once
 * (a materialized CTE), and one wide GROUP BY with a FILTER per measure measured slower.
 */
export function dayTilesSql(request: DayTilesRequest): string {
  const d = request.dialect;
  const names = propertyNames(request.measures);
  const p = (name: string) => names.indexOf(name);
  const value = (name: string): PropertyValue => ({ text: `e.p${p(name)}_t`, number: `e.p${p(name)}_n`, present: `e.p${p(name)}_x` });
  const nul = typedNull(d);
  // Properties are parsed only for the events of the measures that read them.
  const props = d.extractProperties('e.properties', names, extractionGuard(d, request.measures)).map((s) => `, ${s}`);
  const ctes = [
    ...numberedCtes(d, request.events, request.days),
    `extracted AS (\n  SELECT source, user_key, event_id, event_name, ts, value, ${d.utcDay('ts')} AS day,\n` +
      `    copy_no = 1 AND event_id NOT IN (SELECT event_id FROM ${request.contested}) AS counted${props.join('')}\n  FROM numbered AS e\n)`,
    `typed AS (\n  SELECT source, user_key, event_id, event_name, ts, value, day, counted${names.map((_, i) => `, ${propertyJsonItem(d, i)}`).join('')}\n  FROM extracted\n)`,
    `valued AS (\n  SELECT *${names.flatMap((_, i) => propertyValueItems(d, i).map((item) => `, ${item}`)).join('')}\n  FROM typed\n)`,
    `scored AS (\n  SELECT *${names.map((_, i) => `, ${propertyNumberItem(d, i)}`).join('')}\n  FROM valued\n)`,
  ];
  const counted = (m: TileMeasure, extra: string[] = []) => conjunction(['e.counted', matchSql(m, d, value), ...extra]);

  const key = 'e.source, e.user_key, e.day';
  const row = (cols: Partial<Record<Column, string>>) =>
    [
      `${cols.measure} AS measure, e.source AS source, e.user_key AS user_key, e.day AS day`,
      `${cols.n ?? nul.n} AS n, ${cols.total ?? nul.total} AS total, ${cols.abs_total ?? nul.total} AS abs_total, ${cols.integral ?? nul.integral} AS integral`,
      `${cols.value ?? nul.text} AS value, ${cols.latest_ts ?? nul.instant} AS latest_ts, ${cols.latest_event_id ?? nul.text} AS latest_event_id, ${cols.latest_json ?? nul.text} AS latest_json`,
    ].join(', ');
  const presence = `SELECT ${row({ measure: stringLiteral(PRESENCE), n: 'count(*)' })}\nFROM scored AS e\nGROUP BY ${key}`;
  const selects: string[] = [];
  const measures = request.byMeasure === true ? [...request.measures].sort((a, b) => (a.id < b.id ? -1 : 1)) : request.measures;
  const presenceAt = request.presence === false ? -1 : request.byMeasure === true ? measures.filter((m) => m.id < PRESENCE).length : 0;
  for (const [i, m] of measures.entries()) {
    if (i === presenceAt) selects.push(presence);
    const a = m.aggregate;
    const measure = stringLiteral(m.id);
    if (a.kind === 'count') {
      selects.push(`SELECT ${row({ measure, n: 'count(*)' })}\nFROM scored AS e WHERE ${counted(m)}\nGROUP BY ${key}`);
    } else if (a.kind === 'sum') {
      const x = a.of === undefined ? 'e.value' : value(a.of).number;
      const cols = { measure, n: 'count(*)', total: `sum(${x})`, abs_total: `sum(abs(${x}))`, integral: `bool_and(${x} = floor(${x}))` };
      selects.push(`SELECT ${row(cols)}\nFROM scored AS e WHERE ${counted(m, [`${x} IS NOT NULL`])}\nGROUP BY ${key}`);
    } else if (a.kind === 'distinct') {
      const text = value(a.of).text;
      selects.push(
        `SELECT ${row({ measure, value: text })}\nFROM scored AS e WHERE ${counted(m, [`${text} IS NOT NULL`])}\nGROUP BY ${key}, ${text}`,
      );
    } else if (a.kind === 'earliest') {
      throw new Error(`measure ${m.id} (earliest) is read raw, never tiled (measures.ts readsRaw)`);
    } else {
      const by = (v: string) => d.latestBy(v, 'e.ts', 'e.event_id');
      const cols = { measure, latest_ts: by('e.ts'), latest_event_id: by('e.event_id'), latest_json: by(`e.p${p(a.of)}_j`) };
      selects.push(`SELECT ${row(cols)}\nFROM scored AS e WHERE ${counted(m, [value(a.of).present])}\nGROUP BY ${key}`);
    }
  }
  if (presenceAt >= measures.length) selects.push(presence);
  if (selects.length === 0) selects.push(`SELECT ${row({ measure: stringLiteral(PRESENCE) })}\nFROM scored AS e WHERE FALSE`);
  return `WITH ${ctes.join(',\n')}\n${selects.join('\nUNION ALL\n')}`;
}
