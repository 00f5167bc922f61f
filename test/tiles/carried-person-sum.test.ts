import { describe, expect, it } from 'vitest';
import { athenaDialect } from '../../shared/compiler/athena-dialect.ts';
import { duckdbDialect } from '../../shared/compiler/duckdb-dialect.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { carriedPersonSum } from '../../shared/tiles/carry-sql.ts';

/** Carried rows (person, count) added up per person by carriedPersonSum on DuckDB. */
async function perPerson(rows: readonly (readonly [string, bigint | null])[]): Promise<[string, bigint | null][]> {
  const connection = await openDuckDb();
  const values = rows.map(([person, n]) => `('${person}', ${n === null ? 'NULL' : n}::BIGINT)`).join(', ');
  const reader = await connection.runAndReadAll(
    `SELECT person, ${carriedPersonSum(duckdbDialect, 'c.n')} AS n FROM (VALUES ${values}) AS c (person, n) GROUP BY person ORDER BY person`,
  );
  return reader.getRows().map(([person, n]) => [String(person), n === null ? null : BigInt(n as bigint)]);
}

describe('carriedPersonSum', () => {
  it('adds up a person’s carried counts exactly up to 2^53 - 1', async () => {
    // GIVEN one person whose two keys hold 2^52 + 1 and 2^52 - 2 (an odd total one below 2^53), and one with small counts
    const big = 2n ** 52n;
    // WHEN their counts are added up per person
    const got = await perPerson([
      ['ann', big + 1n],
      ['ann', big - 2n],
      ['bob', 3n],
      ['bob', 0n],
      ['bob', 4n],
    ]);
    // THEN each total is the exact integer, a BIGINT
    expect(got).toEqual([
      ['ann', 2n ** 53n - 1n],
      ['bob', 7n],
    ]);
  });

  it('fails the query when a person’s total reaches 2^53, where a double would no longer be exact', async () => {
    // GIVEN one person whose two keys hold 2^52 each
    const half = 2n ** 52n;
    // WHEN / THEN adding them up fails rather than give a rounded count
    await expect(
      perPerson([
        ['ann', half],
        ['ann', half],
      ]),
    ).rejects.toThrow(/a carried count reached 2\^53/);
  });

  it('gives NULL, as the plain sum does, for a person whose keys hold NULL alone (no count in the use), and skips NULLs beside counts', async () => {
    expect(
      await perPerson([
        ['ann', null],
        ['bob', null],
        ['bob', 2n],
      ]),
    ).toEqual([
      ['ann', null],
      ['bob', 2n],
    ]);
  });

  it('keeps the plain sum on other dialects (Athena keeps no carried partials: its SQL is unchanged)', () => {
    expect(carriedPersonSum(athenaDialect, 'c.n0')).toBe('sum(c.n0)');
  });
});
