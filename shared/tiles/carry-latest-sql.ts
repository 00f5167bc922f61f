import { identifier, integerLiteral, stringLiteral } from '../compiler/sql-text.ts';
import type { CarryColumn, CarryTiles, CarryUse } from './carry-sql.ts';

/**
 * The carried `latest` rows are long: one row per carried use (`use_index`, its place in the carried uses) and
 * identity key (`source`, `user_key`), the tile row with the greatest (`latest_ts`, `latest_event_id`) of the use's
 * days (`latest_json` its value). A key with no such row in a use has none.
 */
export const CARRIED_LATEST_COLUMNS = ['use_index', 'source', 'user_key', 'latest_ts', 'latest_event_id', 'latest_json'] as const;

/**
 * Whether a carried `latest` use can be moved to `use`: both over all history (`first` the rollup's day) and
 * `use` ending no earlier. Nothing ever leaves such a use, so a move only adds the days entering.
 */
export const latestMovable = (old: CarryUse, use: CarryUse): boolean =>
  old.measure === use.measure && old.first === '0000-01-01' && use.first === old.first && old.end <= use.end;

const later = (a: string, b: string) =>
  `(${a}.latest_ts > ${b}.latest_ts OR (${a}.latest_ts = ${b}.latest_ts AND ${a}.latest_event_id > ${b}.latest_event_id))`;

/**
 * The long carried `latest` rows of `columns` (in order): the carried rows (`carried`, when some column moves
 * from it) of each column's old use, and the tile rows of the days entering or computed, reduced per use and key to
 * the latest by (`latest_ts`, `latest_event_id`) as the per-person step takes it (the SPEC's tie rule; two counted
 * copies never share an `event_id`). Only the entering days' rows are grouped; the carried rows meet them in one
 * join, the later of the two kept. A column never subtracts (see {@link latestMovable}).
 */
export function carryLatestSql(carried: string | undefined, tiles: CarryTiles | undefined, columns: readonly CarryColumn[]): string {
  if (columns.some((c) => c.subtract !== undefined)) throw new Error('a carried latest use never loses a day');
  const dayRows = columns.flatMap((c, i) =>
    c.add === undefined
      ? []
      : (tiles?.days ?? [])
          .filter((day) => day >= (c.add as CarryUse).first && day < (c.add as CarryUse).end)
          .map((day) => `(${integerLiteral(i)}, ${stringLiteral((c.add as CarryUse).measure)}, ${stringLiteral(day)})`),
  );
  const none = `SELECT CAST(NULL AS INTEGER) AS use_index, CAST(NULL AS VARCHAR) AS source, CAST(NULL AS VARCHAR) AS user_key, CAST(NULL AS TIMESTAMP) AS latest_ts, CAST(NULL AS VARCHAR) AS latest_event_id, CAST(NULL AS VARCHAR) AS latest_json WHERE FALSE`;
  let delta: string | undefined;
  if (tiles !== undefined && dayRows.length > 0) {
    const measures = [...new Set(columns.flatMap((c) => (c.add ? [stringLiteral(c.add.measure)] : [])))].join(', ');
    const order = `{'ts': t.latest_ts, 'event_id': t.latest_event_id}`;
    const won = `arg_max({'ts': t.latest_ts, 'event_id': t.latest_event_id, 'json': t.latest_json}, ${order})`;
    delta =
      `SELECT use_index, source, user_key, w.ts AS latest_ts, w.event_id AS latest_event_id, w.json AS latest_json FROM (\n` +
      `SELECT u.use_index, t.source, t.user_key, ${won} AS w\nFROM ${tiles.relation} AS t\n` +
      `JOIN (VALUES ${dayRows.join(', ')}) AS u (use_index, measure, day) ON t.measure = u.measure AND t.day = u.day\n` +
      `WHERE t.measure IN (${measures}) AND t.latest_ts IS NOT NULL\nGROUP BY u.use_index, t.source, t.user_key\n) AS grouped`;
  }
  const moved = columns.flatMap((c, i) => (c.from === undefined ? [] : [`(${integerLiteral(i)}, ${integerLiteral(c.from)})`]));
  const old =
    carried !== undefined && moved.length > 0
      ? `SELECT m.use_index, o.source, o.user_key, o.latest_ts, o.latest_event_id, o.latest_json\nFROM ${carried} AS o\n` +
        `JOIN (VALUES ${moved.join(', ')}) AS m (use_index, from_index) ON o.use_index = m.from_index`
      : undefined;
  if (old === undefined) return delta ?? none;
  if (delta === undefined) return old;
  const pick = (column: string) =>
    `CASE WHEN d.use_index IS NULL OR (o.use_index IS NOT NULL AND ${later('o', 'd')}) THEN o.${column} ELSE d.${column} END AS ${identifier(column)}`;
  return (
    `SELECT ${CARRIED_LATEST_COLUMNS.map(pick).join(', ')}\n` +
    `FROM (\n${old}\n) AS o\nFULL OUTER JOIN (\n${delta}\n) AS d ON d.use_index = o.use_index AND d.source = o.source AND d.user_key = o.user_key`
  );
}
