import { describe, expect, it } from 'vitest';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { contestedFromIndexSql, sharedHashRowsSql } from '../../shared/tiles/id-index-sql.ts';

/** Index entries (`event_id, h, day`) with hashes chosen by the test, so that two ids can share one. */
const index = (rows: readonly (readonly [string, number, string])[]) =>
  `(SELECT * FROM (VALUES ${rows.map(([id, h, day]) => `('${id}', ${h}::UBIGINT, '${day}')`).join(', ')}) AS entries (event_id, h, day))`;

/** The contested `[event_id, day]` rows a query gives, sorted. */
async function contested(sql: string): Promise<string[][]> {
  const connection = await openDuckDb();
  const rows = (await connection.runAndReadAll(`SELECT event_id, day FROM (${sql}) AS c ORDER BY event_id, day`)).getRows();
  return rows.map((row) => row.map(String));
}

describe('sharedHashRowsSql (a first build’s contested ids)', () => {
  it('finds every day of each id on more than one day, and leaves out ids that only share a hash', async () => {
    // GIVEN an index where a is on two days, d on three, f on two beside g sharing its hash on a third day,
    // b and c share a hash on different days (a collision), e is alone, and many ids sort between them
    const fillers = Array.from({ length: 50 }, (_, i) => [`x${i}`, 1000 + i * 2, '2024-01-02'] as const);
    const entries = index([
      ['a', 900, '2024-01-01'],
      ['b', 7, '2024-01-01'],
      ['d', 500, '2024-01-01'],
      ['f', 2000, '2024-01-01'],
      ...fillers,
      ['a', 900, '2024-01-02'],
      ['d', 500, '2024-01-02'],
      ['e', 8, '2024-01-02'],
      ['g', 2000, '2024-01-02'],
      ['c', 7, '2024-01-03'],
      ['d', 500, '2024-01-03'],
      ['f', 2000, '2024-01-03'],
    ]);
    // WHEN the contested ids are derived from the rows whose hash is shared
    const got = await contested(contestedFromIndexSql(sharedHashRowsSql(entries)));
    // THEN they are the ids on more than one day, each with all its days: what the comparison of every id gives
    expect(got).toEqual([
      ['a', '2024-01-01'],
      ['a', '2024-01-02'],
      ['d', '2024-01-01'],
      ['d', '2024-01-02'],
      ['d', '2024-01-03'],
      ['f', '2024-01-01'],
      ['f', '2024-01-03'],
    ]);
    expect(got).toEqual(await contested(contestedFromIndexSql(entries)));
  });

  it('finds none in an index where no hash is on two rows', async () => {
    const entries = index([
      ['a', 1, '2024-01-01'],
      ['b', 2, '2024-01-02'],
    ]);
    expect(await contested(contestedFromIndexSql(sharedHashRowsSql(entries)))).toEqual([]);
  });
});
