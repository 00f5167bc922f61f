import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { findLeftovers, removeLeftovers } from '../../shared/local/leftovers.ts';
import { openLocalContext } from '../../shared/local/local-context.ts';
import { localFiles } from '../../shared/local/local-files.ts';
import { tempDir } from '../support/cli.ts';

/** The connection of a process killed while DuckDB reads a Parquet file: nothing after it runs, no `finally` either. */
function killedWhileReading(connection: DuckDBConnection): DuckDBConnection {
  return new Proxy(connection, {
    get(target, name, receiver) {
      if (name !== 'runAndReadAll') return Reflect.get(target, name, receiver);
      return async (sql: string) => (sql.includes('read_parquet') ? new Promise(() => undefined) : target.runAndReadAll(sql));
    },
  });
}

describe('the member lists the local engine writes while encoding and decoding (F3)', () => {
  it('encodes in memory: no scratch file, even in a process killed while encoding', async () => {
    // GIVEN the local engine of a state folder, in a process killed at any Parquet read
    const state = await tempDir();
    const { engine } = await openLocalContext({ data: join(state, 'no-lake'), state });
    Reflect.set(engine, 'connection', killedWhileReading(Reflect.get(engine, 'connection') as DuckDBConnection));

    // WHEN it encodes a member list
    const bytes = await engine.encode(['bob', 'ann', 'bob']);

    // THEN the file is written without DuckDB and nothing is left in the state folder
    expect(await engine.decode(bytes)).toEqual(['ann', 'bob']);
    expect(await findLeftovers(state)).toEqual([]);
  });

  it('a run killed while DuckDB decodes a file from elsewhere leaves its scratch copy where the leftovers cleanup and the privacy sweep reach it', async () => {
    // GIVEN the local engine of a state folder, in a process killed while DuckDB reads a file
    const state = await tempDir();
    const { engine, blobs } = await openLocalContext({ data: join(state, 'no-lake'), state });
    Reflect.set(engine, 'connection', killedWhileReading(Reflect.get(engine, 'connection') as DuckDBConnection));
    // A file written elsewhere, not in byte order: DuckDB reads it (from a scratch copy).
    const foreign = new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'person_id', data: ['bob', 'ann'], type: 'STRING' }] }));

    // WHEN it decodes the file
    void engine.decode(foreign);
    let leftovers = await findLeftovers(state);
    for (let i = 0; i < 200 && leftovers.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      leftovers = await findLeftovers(state);
    }

    // THEN the list is a leftover of the state folder, which `forget` and `privacy-check` sweep, and the next run removes
    expect(leftovers).toEqual([{ path: expect.stringMatching(/^\.tmp-[0-9a-f-]{36}\.parquet$/), kind: 'temporary' }]);
    expect(await localFiles(blobs).list('')).toContain(leftovers[0]?.path);
    expect(await removeLeftovers(state)).toEqual(leftovers);
    expect(await findLeftovers(state)).toEqual([]);
  });
});
