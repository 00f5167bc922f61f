import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duckdbDialect } from '../../shared/compiler/duckdb-dialect.ts';
import { normalizedIdSql, presentIdSql } from '../../shared/compiler/normalize-id.ts';
import { stringLiteral } from '../../shared/compiler/sql-text.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';

/** SPEC normalize(id), written in JavaScript: trim space, tab, CR and LF; lower-case when it holds an `@`. */
function normalize(id: string): string {
  const trimmed = id.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  return trimmed.includes('@') ? trimmed.toLowerCase() : trimmed;
}

const IDS = [
  'u_1',
  ' u_1',
  'u_1 ',
  '\tu_1\r\n',
  '\n\n',
  ' ',
  '',
  'a b',
  ' Ann@Example.COM ',
  'Ann@Example.COM',
  'ANN',
  '\u00a0u_1\u00a0', // a no-break space is not ASCII white space
  '\u3000u_1', // neither is an ideographic space
  'é ',
  '\fu_1\v', // form feed and vertical tab are not trimmed either
];

describe('normalize(id) in DuckDB', () => {
  let connection: DuckDBConnection;
  beforeAll(async () => {
    connection = await openDuckDb();
  });
  afterAll(() => connection.closeSync());

  it.each(IDS.map((id) => [JSON.stringify(id), id]))(
    'normalizes %s as SPEC section 1 does, and knows whether it is present',
    async (_, id) => {
      const reader = await connection.runAndReadAll(
        `SELECT ${normalizedIdSql(duckdbDialect, 'user_id')}, ${presentIdSql(duckdbDialect, 'user_id')} FROM (SELECT ${stringLiteral(id)} AS user_id)`,
      );
      const [normalized, present] = reader.getRows()[0] ?? [];
      expect(normalized).toBe(normalize(id));
      expect(present).toBe(normalize(id) !== '');
    },
  );

  it('keeps a missing id missing', async () => {
    const reader = await connection.runAndReadAll(
      `SELECT ${normalizedIdSql(duckdbDialect, 'user_id')} IS NULL, ${presentIdSql(duckdbDialect, 'user_id')} IS NULL FROM (SELECT NULL::VARCHAR AS user_id)`,
    );
    expect(reader.getRows()[0]).toEqual([true, true]);
  });
});
