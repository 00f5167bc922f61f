import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { findLeftovers, removeLeftovers } from '../../shared/local/leftovers.ts';
import { openLocalContext } from '../../shared/local/local-context.ts';
import { localFiles } from '../../shared/local/local-files.ts';
import { tempDir } from '../support/cli.ts';

/** The connection of a process killed right after DuckDB wrote a COPY: nothing after it runs, no `finally` either. */
function killedAfterCopy(connection: DuckDBConnection): DuckDBConnection {
  return new Proxy(connection, {
    get(target, name, receiver) {
      if (name !== 'run') return Reflect.get(target, name, receiver);
      return async (sql: string) => {
        const done = await target.run(sql);
        return sql.startsWith('COPY') ? new Promise(() => undefined) : done;
      };
    },
  });
}

describe('the member lists DuckDB writes while encoding (F3)', () => {
  it('a killed run leaves its scratch list in the state folder, where the leftovers cleanup and the privacy sweep reach it', async () => {
    // GIVEN the local engine of a state folder, in a process killed once the scratch list is written
    const state = await tempDir();
    const { engine, blobs } = await openLocalContext({ data: join(state, 'no-lake'), state });
    Reflect.set(engine, 'connection', killedAfterCopy(Reflect.get(engine, 'connection') as DuckDBConnection));

    // WHEN it encodes a member list
    void engine.encode(['ann', 'bob']);
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
