import type { Dialect } from '../compiler/dialect.ts';
import { doubleLiteral, identifier, integerLiteral, stringLiteral } from '../compiler/sql-text.ts';

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

/** A carried use moved forward: its column of `from` plus the tiles of the days entering, minus those leaving. */
export interface CarryMove {
  readonly from: CarryUse;
  readonly to: CarryUse;
}

/** The key of a use's carried column. */
export const carryKey = (use: CarryUse): string => `${use.measure}|${use.first}|${use.end}`;

/**
 * The carried partials are wide: one row per identity key (`source`, `user_key`) and one BIGINT
 * column per use (`n0`, `n1`, ... in the order of the uses), the count over the use's days (NULL
 * or 0: none); a key with no count in any use has no row. One row per key (not per use and key)
 * is what the per-person step then reads: about 20k rows in place of 350k on the bench lake.
 */
export const carriedColumn = (index: number): string => identifier(`n${index}`);

/**
 * A carried column (`c`, counts of one use per identity key) added up per person. DuckDB keeps a
 * 128-bit state for each `sum` of a BIGINT: 46 of them per person were a third of the tiled query's CPU at
 * 10M events. Counts are non-negative integers, so added as DOUBLEs they are exact in any order while the
 * total stays below 2^53, and a total that reaches it fails the query rather than round. Carried partials
 * are DuckDB's only (the Athena store keeps none): other dialects keep the plain sum.
 */
export function carriedPersonSum(d: Dialect, column: string): string {
  if (d.name !== 'duckdb') return `sum(${column})`;
  const total = `sum(CAST(${column} AS DOUBLE))`;
  // A person whose keys hold NULL alone gets NULL, as from the plain sum (the ELSE branch).
  return `CASE WHEN ${total} >= ${doubleLiteral(2 ** 53)} THEN error(${stringLiteral('a carried count reached 2^53')}) ELSE CAST(${total} AS BIGINT) END`;
}

/** The `VALUES` rows `(use_no, measure, first_day, end_day)` of numbered uses, for a join naming each use. */
export const numberedUseList = (uses: readonly (CarryUse & { readonly no: number })[]): string =>
  uses.map((u) => `(${integerLiteral(u.no)}, ${stringLiteral(u.measure)}, ${stringLiteral(u.first)}, ${stringLiteral(u.end)})`).join(', ');

/** How the column of a use is made: moved from a column of the carried rows, and what the tiles add (and take away). */
export interface CarryColumn {
  /** The carried column it starts from (an index into the carried uses), none for a use computed from its tiles. */
  readonly from?: number;
  /** Tile days whose rows are added (`[first, end)`) and taken away. */
  readonly add?: CarryUse;
  readonly subtract?: CarryUse;
}

/** The tile rows a carry reads: a relation over the tiles of some days, and those days. */
export interface CarryTiles {
  /** Tile rows (`measure`, `source`, `user_key`, `day`, `n`) of `days` only. */
  readonly relation: string;
  /** The days `relation` holds (YYYY-MM-DD). */
  readonly days: readonly string[];
}

/**
 * The wide carried rows of `columns` (in order): the carried rows (`carried`, wide, when some column
 * moves from it) with each column taken from its old column, plus the tile rows of the days entering
 * or computed, minus those leaving, added up per identity key; keys whose every column falls to 0 have
 * no row. Counts are integers: exact in any order. `tiles` must hold the leaving days as they were
 * when `carried` was made, and the days entering.
 */
export function carryWideSql(carried: string | undefined, tiles: CarryTiles | undefined, columns: readonly CarryColumn[]): string {
  // Each use's tile days, with the sign of their rows; added up per use and key first, then one column per use.
  const ranges = columns.flatMap((c, i) => [
    ...(c.add ? [{ i, use: c.add, sign: 1 }] : []),
    ...(c.subtract ? [{ i, use: c.subtract, sign: -1 }] : []),
  ]);
  // One row per range and tile day it covers, so that tile rows meet their uses on equal keys (measure, day): joined on the
  // measure alone, each of the 2M tile rows then tested against its measure's ranges, (d)'s move at 10M took 2.9-3.5 s CPU
  // in place of 2.4-2.5.
  const dayRows = ranges.flatMap((r) =>
    (tiles?.days ?? [])
      .filter((day) => day >= r.use.first && day < r.use.end)
      .map((day) => `(${integerLiteral(r.i)}, ${stringLiteral(r.use.measure)}, ${stringLiteral(day)}, ${integerLiteral(r.sign)})`),
  );
  let delta: string | undefined;
  if (tiles !== undefined && dayRows.length > 0) {
    const measures = [...new Set(ranges.map((r) => stringLiteral(r.use.measure)))].join(', ');
    // The signed tile rows are added up per use and key and pivoted into one column per use by DuckDB's PIVOT: from 20
    // columns on (pivot_filter_threshold) a GROUP BY (col, key) with the sum, a GROUP BY key of two lists and a pivot
    // operator that places each entry, in place of one FILTERed aggregate per column evaluated over every row (46 HUGEINT
    // sum states per key). The sum is the PIVOT's own aggregate: a GROUP BY of its own before it (each (col, key) one row,
    // the PIVOT's any_value) grouped the 1.1M (col, key) rows of (d)'s move at 10M twice. Cast to BIGINT: an overflow fails.
    const perUse =
      `SELECT u.col, t.source, t.user_key, t.n * u.sign AS n\nFROM ${tiles.relation} AS t\n` +
      `JOIN (VALUES ${dayRows.join(', ')}) AS u (col, measure, day, sign) ON t.measure = u.measure AND t.day = u.day\n` +
      `WHERE t.measure IN (${measures})`;
    const pivoted = [...new Set(ranges.map((r) => r.i))].map((i) => `${integerLiteral(i)} AS ${identifier(`c${i}`)}`);
    delta = `PIVOT (\n${perUse}\n) ON col IN (${pivoted.join(', ')}) USING CAST(sum(n) AS BIGINT) GROUP BY source, user_key`;
  }
  const old = carried !== undefined && columns.some((c) => c.from !== undefined) ? carried : undefined;
  // The carried rows and the tiles' rows of a key meet in one join (no GROUP BY over every column).
  const key = (column: string) =>
    old !== undefined && delta !== undefined ? `coalesce(o.${column}, d.${column})` : `${old !== undefined ? 'o' : 'd'}.${column}`;
  const values = columns.map((c, i) => {
    const terms = [
      ...(old !== undefined && c.from !== undefined ? [`coalesce(o.${carriedColumn(c.from)}, 0)`] : []),
      ...(delta !== undefined && (c.add !== undefined || c.subtract !== undefined) ? [`coalesce(d.${identifier(`c${i}`)}, 0)`] : []),
    ];
    return terms.length === 0 ? 'CAST(0 AS BIGINT)' : `CAST(${terms.join(' + ')} AS BIGINT)`;
  });
  const from =
    old !== undefined && delta !== undefined
      ? `${old} AS o\nFULL OUTER JOIN (\n${delta}\n) AS d ON d.source = o.source AND d.user_key = o.user_key`
      : old !== undefined
        ? `${old} AS o`
        : delta !== undefined
          ? `(\n${delta}\n) AS d`
          : undefined;
  if (from === undefined) {
    return `SELECT CAST(NULL AS VARCHAR) AS source, CAST(NULL AS VARCHAR) AS user_key, ${values.map((_, i) => `CAST(NULL AS BIGINT) AS ${carriedColumn(i)}`).join(', ')} WHERE FALSE`;
  }
  return (
    `SELECT * FROM (\nSELECT ${key('source')} AS source, ${key('user_key')} AS user_key, ${values.map((v, i) => `${v} AS ${carriedColumn(i)}`).join(', ')}\n` +
    `FROM ${from}\n) AS moved\nWHERE NOT (${values.map((_, i) => `${carriedColumn(i)} = 0`).join(' AND ')})`
  );
}
