import { describe, expect, it } from 'vitest';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { type CarryColumn, type CarryUse, carryWideSql } from '../../shared/tiles/carry-sql.ts';

const DAYS = ['2024-03-01', '2024-03-02', '2024-03-03', '2024-03-04', '2024-03-05', '2024-03-06'];
const KEYS = ['ann', 'bob', 'cy', 'dee', 'eve', 'fay', 'gus'].map((user) => ({ source: user < 'd' ? 'app' : 'web', user }));
const MEASURES = ['m_a', 'm_b', 'm_c'];

/** A deterministic count (0: no row) per measure, key and day: different enough that a column in the wrong place shows. */
const count = (m: number, k: number, d: number) => ((m * 7 + k * 3 + d * 5 + m * k * d) % 9 === 0 ? 0 : ((m + 1) * (k + 2) * (d + 3)) % 23);

const tileRows = () =>
  MEASURES.flatMap((measure, m) =>
    KEYS.flatMap((key, k) =>
      DAYS.flatMap((day, d) => (count(m, k, d) === 0 ? [] : [{ measure, source: key.source, user_key: key.user, day, n: count(m, k, d) }])),
    ),
  );

/** The count of `use` for key `k` from the tile rows. */
const sumOf = (use: CarryUse | undefined, k: number) =>
  use === undefined
    ? 0
    : DAYS.reduce((sum, day, d) => (day >= use.first && day < use.end ? sum + count(MEASURES.indexOf(use.measure), k, d) : sum), 0);

/** `n` columns: fresh ones, moves (old column plus days entering, minus days leaving) and plain copies, each its own range. */
function columnsOf(n: number): CarryColumn[] {
  return Array.from({ length: n }, (_, i): CarryColumn => {
    const measure = MEASURES[i % MEASURES.length] as string;
    const first = DAYS[i % 3] as string;
    const end = DAYS[3 + (i % 3)] as string;
    if (i % 4 === 0) return { add: { measure, first, end } };
    if (i % 4 === 1) return { from: i % 5 };
    return {
      from: (i * 3) % 7,
      add: { measure, first: end, end: DAYS[5] as string },
      ...(i % 4 === 3 ? { subtract: { measure, first: DAYS[0] as string, end: DAYS[1 + (i % 2)] as string } } : {}),
    };
  });
}

/** The carried rows' column `j` for key `k`: some keys have none (no row), some have a 0. */
const oldOf = (j: number, k: number) => (k === 6 ? undefined : (j * 11 + k * 13) % 17);

describe('carryWideSql', () => {
  // DuckDB pivots up to 19 columns with FILTERed aggregates and from 20 on with its pivot operator (pivot_filter_threshold).
  for (const width of [6, 46]) {
    it(`moves and computes ${width} columns per key exactly as added up one by one`, async () => {
      // GIVEN tile rows of 3 measures over 6 days and carried rows of 7 columns for all keys but the last
      const connection = await openDuckDb();
      const rows = tileRows();
      const tiles = `(SELECT * FROM (VALUES ${rows.map((r) => `('${r.measure}', '${r.source}', '${r.user_key}', '${r.day}', ${r.n}::BIGINT)`).join(', ')}) AS t (measure, source, user_key, day, n))`;
      const oldRows = KEYS.flatMap((key, k) =>
        oldOf(0, k) === undefined
          ? []
          : [`('${key.source}', '${key.user}', ${Array.from({ length: 7 }, (_, j) => `${oldOf(j, k)}::BIGINT`).join(', ')})`],
      );
      const carried = `(SELECT * FROM (VALUES ${oldRows.join(', ')}) AS o (source, user_key, ${Array.from({ length: 7 }, (_, j) => `n${j}`).join(', ')}))`;
      const columns = columnsOf(width);
      // WHEN the wide rows are computed
      const reader = await connection.runAndReadAll(
        `SELECT * FROM (${carryWideSql(carried, { relation: tiles, days: DAYS }, columns)}) AS w ORDER BY source, user_key`,
      );
      const got = reader.getRowObjects().map((row) => Object.values(row).map((v) => (typeof v === 'bigint' ? Number(v) : v)));
      // THEN each key's column is its carried column plus the days entering, minus those leaving; keys at 0 everywhere have no row
      const expected = KEYS.flatMap((key, k) => {
        const values = columns.map((c) => (c.from === undefined ? 0 : (oldOf(c.from, k) ?? 0)) + sumOf(c.add, k) - sumOf(c.subtract, k));
        return values.every((v) => v === 0) ? [] : [[key.source, key.user, ...values]];
      });
      expect(got).toEqual(expected);
      expect(reader.columnNames()).toEqual(['source', 'user_key', ...columns.map((_, i) => `n${i}`)]);
      expect(
        reader
          .columnTypes()
          .slice(2)
          .every((t) => t.toString() === 'BIGINT'),
      ).toBe(true);
    });
  }

  it('computes columns from tiles alone, and a key whose counts cancel out has no row', async () => {
    const connection = await openDuckDb();
    const tiles = `(SELECT * FROM (VALUES ('m_a', 'app', 'ann', '2024-03-01', 2::BIGINT), ('m_a', 'app', 'bob', '2024-03-02', 3::BIGINT)) AS t (measure, source, user_key, day, n))`;
    // Even columns: the first day; odd ones: both days minus the second (bob's only day), so bob is at 0 in every column.
    const columns = Array.from(
      { length: 21 },
      (_, i): CarryColumn =>
        i % 2 === 0
          ? { add: { measure: 'm_a', first: '2024-03-01', end: '2024-03-02' } }
          : {
              add: { measure: 'm_a', first: '2024-03-01', end: '2024-03-03' },
              subtract: { measure: 'm_a', first: '2024-03-02', end: '2024-03-03' },
            },
    );
    const rows = (
      await connection.runAndReadAll(
        `SELECT * FROM (${carryWideSql(undefined, { relation: tiles, days: ['2024-03-01', '2024-03-02'] }, columns)}) AS w ORDER BY user_key`,
      )
    ).getRows();
    expect(rows.map((r) => r.map((v) => (typeof v === 'bigint' ? Number(v) : v)))).toEqual([['app', 'ann', ...columns.map(() => 2)]]);
  });

  // (d)'s move at 10M events groups 1.1M (use, key) rows: a GROUP BY of its own before the PIVOT's grouped them twice.
  for (const width of [6, 46]) {
    it(`adds the tile rows up per use and key in the pivot itself (${width} columns: one GROUP BY fewer)`, async () => {
      // GIVEN a move of every column by one day of tile rows
      const connection = await openDuckDb();
      const tiles = `(SELECT * FROM (VALUES ('m_a', 'app', 'ann', '2024-03-01', 2::BIGINT)) AS t (measure, source, user_key, day, n))`;
      const columns = Array.from(
        { length: width },
        (): CarryColumn => ({ add: { measure: 'm_a', first: '2024-03-01', end: '2024-03-02' } }),
      );
      // WHEN DuckDB plans it
      const plan = (
        await connection.runAndReadAll(`EXPLAIN ${carryWideSql(undefined, { relation: tiles, days: ['2024-03-01'] }, columns)}`)
      )
        .getRows()
        .map((row) => String(row[1]))
        .join('\n');
      // THEN the rows are grouped per key (FILTERed sums below 20 columns), and from 20 on per use and key, then per key (the PIVOT's lists)
      expect(plan.match(/HASH_GROUP_BY/g)?.length).toBe(width < 20 ? 1 : 2);
    });
  }
});
