import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * Runs `work` with DuckDB on one thread, then gives back the thread count it had (also when `work`
 * fails). For statements whose hash tables and writers cost more CPU split over threads than they
 * save in wall time on this project's small machines.
 */
export async function oneThread<T>(connection: DuckDBConnection, work: () => Promise<T>): Promise<T> {
  const threads = Number((await connection.runAndReadAll("SELECT current_setting('threads')")).getRows()[0]?.[0]);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`DuckDB reports ${threads} threads`);
  await connection.run('SET threads = 1');
  try {
    return await work();
  } finally {
    await connection.run(`SET threads = ${threads}`);
  }
}
