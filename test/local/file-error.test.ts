import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileWriteError, fileWriteError } from '../../shared/local/file-error.ts';
import { LocalCarry } from '../../shared/local/local-carry.ts';
import { localIdentityKeys } from '../../shared/local/local-identity-keys.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import type { DuckDBConnection } from '@duckdb/node-api';
import { tempDir } from '../support/cli.ts';

/** DuckDB's error for a COPY into a full disk (as `cohorts run --tiles` on a 4 MB tmpfs printed it). */
const duckdbFull = (file: string) => new Error(`IO Error: Could not write file "${file}": No space left on device`);

/** A connection whose disk is full: every COPY fails with DuckDB's message naming the file it writes. */
function fullDisk(connection: DuckDBConnection): DuckDBConnection {
  return new Proxy(connection, {
    get(target, name, receiver) {
      if (name !== 'run') return Reflect.get(target, name, receiver);
      return async (sql: string) => {
        const file = /^COPY .* TO '([^']+)'/s.exec(sql)?.[1];
        if (file !== undefined) throw duckdbFull(file);
        return target.run(sql);
      };
    },
  }) as DuckDBConnection;
}

describe("DuckDB's failed writes into the state folder (a full disk)", () => {
  it('name the file DuckDB names and what to do, with the code of its text', () => {
    const error = fileWriteError(
      duckdbFull('/s/tiles/.tmp-build-7-1/day=2026-08-12/part_0.parquet'),
      '/s/tiles/.tmp-build-7-1',
      '/s/tiles',
    );

    expect(error).toBeInstanceOf(FileWriteError);
    expect(error).toMatchObject({
      code: 'ENOSPC',
      path: '/s/tiles/.tmp-build-7-1/day=2026-08-12/part_0.parquet',
      message:
        'no space left on device (ENOSPC) writing /s/tiles/.tmp-build-7-1/day=2026-08-12/part_0.parquet: free space under /s/tiles and run again',
    });
    // Another failure (a missing folder: not the user's disk) is left as it was
    const other = new Error('IO Error: Cannot open file "/s/x.parquet": No such file or directory');
    expect(fileWriteError(other, '/s/x.parquet', '/s')).toBe(other);
    // ...and so is a lake file the same COPY could not read: it is not a write of the state folder
    const lake = new Error('IO Error: Cannot open file "/lake/identities/part-0.parquet": Permission denied');
    expect(fileWriteError(lake, '/s/tiles/.tmp-build-7-1', '/s/tiles')).toBe(lake);
  });

  it('a carried partials file the disk has no room for is named with what to do', async () => {
    // GIVEN the carried partials of a state folder whose disk is full when DuckDB writes them
    const state = await tempDir();
    const carry = new LocalCarry(fullDisk(await openDuckDb()), state);

    // WHEN a use is computed from its tiles
    const use = { measure: 'm1', first: '2024-03-01', end: '2024-03-02' };
    const failed = carry.relations(
      [use],
      ['2024-03-01'],
      () => 'tiles',
      (day) => `${state}/tiles/day=${day}/tiles.parquet`,
    );

    // THEN the error names the file and what to do
    await expect(failed).rejects.toThrow(
      new RegExp(
        `^no space left on device \\(ENOSPC\\) writing ${state}/tiles/partials/\\.tmp-partials-\\d+-\\d+\\.parquet: free space under ${state}/tiles/partials and run again$`,
      ),
    );
  });

  it("the source checks' identity keys the disk has no room for are named with what to do", async () => {
    // GIVEN a state folder whose disk is full when DuckDB writes the identity map's normalized keys
    const state = await tempDir();
    const connection = await openDuckDb();
    const engine = new DuckDbEngine(connection, state);
    const identities = "(SELECT 'web' AS source, 'ann' AS user_id, 'p_ann' AS person_id)";

    // WHEN the source checks keep them (as `cohorts run` does at Plan)
    const failed = localIdentityKeys(fullDisk(connection), engine, join(state, 'checks'), identities, []);

    // THEN the error names the file and what to do, as every other write of the state folder does (it was DuckDB's
    // "IO Error: Could not write file ...: No space left on device")
    await expect(failed).rejects.toThrow(
      new RegExp(
        `^no space left on device \\(ENOSPC\\) writing ${state}/checks/\\.tmp-[0-9a-f-]{36}\\.parquet: free space under ${state}/checks and run again$`,
      ),
    );
    await expect(failed).rejects.toBeInstanceOf(FileWriteError);
  });
});
