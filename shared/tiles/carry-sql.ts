import { integerLiteral, stringLiteral } from '../compiler/sql-text.ts';

/**
 * A count use of the tiled query whose tile rows can be carried from one refresh to the next: a
 * measure over whole tile days `[first, end)` (YYYY-MM-DD; `0000-01-01`, the rollup's day, for all
 * history).
 */
export interface CarryUse {
  readonly measure: string;
  readonly first: string;
  readonly end: string;
}

/** A carried use moved forward: its rows of `from` plus the tiles of the days entering, minus those leaving. */
export interface CarryMove {
  readonly from: CarryUse;
  readonly to: CarryUse;
}

/** The key of a use's carried rows. */
export const carryKey = (use: CarryUse): string => `${use.measure}|${use.first}|${use.end}`;

/** The columns of the carried partials: one row per use and identity key, the count over the use's days (never 0). */
export const CARRY_COLUMNS = ['measure', 'first_day', 'end_day', 'source', 'user_key', 'n'] as const;

const useList = (uses: readonly CarryUse[]) =>
  uses.map((u) => `(${stringLiteral(u.measure)}, ${stringLiteral(u.first)}, ${stringLiteral(u.end)})`).join(', ');

/** The `VALUES` rows `(use_no, measure, first_day, end_day)` of numbered uses, for a join naming each use. */
export const numberedUseList = (uses: readonly (CarryUse & { readonly no: number })[]): string =>
  uses.map((u) => `(${integerLiteral(u.no)}, ${stringLiteral(u.measure)}, ${stringLiteral(u.first)}, ${stringLiteral(u.end)})`).join(', ');

const measureList = (uses: readonly CarryUse[]) => [...new Set(uses.map((u) => stringLiteral(u.measure)))].join(', ');

/** The carried rows of `uses` computed from the tile rows of their days (what the tiled query adds up per key). */
export function carryFreshSql(tiles: string, uses: readonly CarryUse[]): string {
  return (
    'SELECT t.measure, u.first_day, u.end_day, t.source, t.user_key, CAST(sum(t.n) AS BIGINT) AS n\n' +
    `FROM ${tiles} AS t\nJOIN (VALUES ${useList(uses)}) AS u (measure, first_day, end_day)\n` +
    '  ON t.measure = u.measure AND t.day >= u.first_day AND t.day < u.end_day\n' +
    `WHERE t.measure IN (${measureList(uses)})\nGROUP BY t.measure, u.first_day, u.end_day, t.source, t.user_key`
  );
}

/**
 * The carried rows of the uses moved forward (`to.first >= from.first`, `to.end >= from.end`,
 * `to.first <= from.end`): the rows carried for `from`, plus the tile rows of the days entering
 * `[from.end, to.end)`, minus those leaving `[from.first, to.first)`, added up per key; a key whose
 * count falls to 0 has no row (as no tile row would give it one). Counts are integers: exact.
 * `tiles` must hold the leaving days as they were when `from` was carried.
 */
export function carryForwardSql(carried: string, tiles: string, moves: readonly CarryMove[]): string {
  const list = moves
    .map(
      ({ from, to }) =>
        `(${stringLiteral(to.measure)}, ${stringLiteral(from.first)}, ${stringLiteral(from.end)}, ${stringLiteral(to.first)}, ${stringLiteral(to.end)})`,
    )
    .join(', ');
  const moved = `(VALUES ${list}) AS m (measure, old_first, old_end, first_day, end_day)`;
  const measures = measureList(moves.map((m) => m.to));
  const parts = [
    `SELECT c.measure, m.first_day, m.end_day, c.source, c.user_key, c.n FROM ${carried} AS c\nJOIN ${moved} ON c.measure = m.measure AND c.first_day = m.old_first AND c.end_day = m.old_end`,
    `SELECT t.measure, m.first_day, m.end_day, t.source, t.user_key, t.n FROM ${tiles} AS t\nJOIN ${moved} ON t.measure = m.measure AND t.day >= m.old_end AND t.day < m.end_day\nWHERE t.measure IN (${measures})`,
    `SELECT t.measure, m.first_day, m.end_day, t.source, t.user_key, -t.n FROM ${tiles} AS t\nJOIN ${moved} ON t.measure = m.measure AND t.day >= m.old_first AND t.day < m.first_day\nWHERE t.measure IN (${measures})`,
  ];
  return (
    `SELECT measure, first_day, end_day, source, user_key, CAST(sum(n) AS BIGINT) AS n FROM (\n${parts.join('\nUNION ALL\n')}\n) AS moved\n` +
    'GROUP BY measure, first_day, end_day, source, user_key\nHAVING sum(n) <> 0'
  );
}

/**
 * The parts of the carried count uses (one row per use and key, as the tile rows of its days add
 * up): `columns` in order, `none` for the columns a count leaves NULL.
 */
export function carriedSelect(
  carried: string,
  uses: readonly (CarryUse & { readonly no: number })[],
  columns: readonly string[],
  none: Readonly<Record<string, string>>,
): string {
  const list = numberedUseList(uses);
  const items: Record<string, string> = {
    use_no: 'carry_uses.use_no',
    measure: 'c.measure',
    source: 'c.source',
    user_key: 'c.user_key',
    n: 'c.n',
  };
  return (
    `SELECT ${columns.map((c) => `${items[c] ?? none[c]} AS ${c}`).join(', ')}\nFROM ${carried} AS c\n` +
    `JOIN (VALUES ${list}) AS carry_uses (use_no, measure, first_day, end_day)\n` +
    '  ON c.measure = carry_uses.measure AND c.first_day = carry_uses.first_day AND c.end_day = carry_uses.end_day'
  );
}
