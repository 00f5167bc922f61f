import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringLiteral } from '../../shared/compiler/sql-text.ts';
import { LocalCarry } from '../../shared/local/local-carry.ts';
import { oneThread } from '../../shared/local/one-thread.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { tempDir } from '../support/cli.ts';

type Connection = Awaited<ReturnType<typeof openDuckDb>>;
const threadsOf = async (connection: Connection) =>
  Number((await connection.runAndReadAll("SELECT current_setting('threads')")).getRows()[0]?.[0]);

describe('statements run on one DuckDB thread', () => {
  it('gives back the thread count after the work, also when it fails', async () => {
    const connection = await openDuckDb({ threads: 2 });
    expect(await oneThread(connection, () => threadsOf(connection))).toBe(1);
    expect(await threadsOf(connection)).toBe(2);
    await expect(oneThread(connection, () => connection.run('SELECT * FROM no_such_table'))).rejects.toThrow();
    expect(await threadsOf(connection)).toBe(2);
  });

  it('writes the carried partials on one thread, then gives the threads back', async () => {
    // GIVEN a tile day with one key's count, and a connection whose statements are recorded
    const connection = await openDuckDb({ threads: 2 });
    const dir = await tempDir();
    const file = join(dir, 'day.parquet');
    await connection.run(
      `COPY (SELECT 'm1' AS measure, 'app' AS source, 'ann' AS user_key, CAST(2 AS BIGINT) AS n, '2024-03-01' AS day) TO ${stringLiteral(file)} (FORMAT parquet)`,
    );
    const seen: string[] = [];
    const run = connection.run.bind(connection);
    connection.run = ((sql: string, ...rest: unknown[]) => {
      seen.push(sql.startsWith('COPY') ? 'COPY' : sql);
      return (run as (...args: unknown[]) => ReturnType<typeof run>)(sql, ...rest);
    }) as typeof connection.run;
    // WHEN the carried partials of a use over that day are computed
    const carried = await new LocalCarry(connection, dir).relations(
      [{ measure: 'm1', first: '2024-03-01', end: '2024-03-02' }],
      ['2024-03-01'],
      () => `read_parquet(${stringLiteral(file)})`,
      () => file,
    );
    // THEN their COPY ran between `SET threads = 1` and the connection's two threads given back, and holds the count
    const copy = seen.indexOf('COPY');
    expect(seen.slice(copy - 1, copy + 2)).toEqual(['SET threads = 1', 'COPY', 'SET threads = 2']);
    expect(await threadsOf(connection)).toBe(2);
    const rows = (await connection.runAndReadAll(`SELECT source, user_key, n0 FROM ${carried?.carried}`)).getRows();
    expect(rows).toEqual([['app', 'ann', 2n]]);
  });
});
