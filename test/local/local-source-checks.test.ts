import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { querySourceChecks } from '../../shared/checks/source-check-source.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { CHECKS_FOLDER, LocalSourceChecks } from '../../shared/local/local-source-checks.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { AS_OF, type IdentityRow, LAST_DAY, type RawEvent, sortedRows, withLake, writeRawLake } from '../checks/support.ts';

let connection: DuckDBConnection;
beforeAll(async () => {
  connection = await openDuckDb();
});
afterAll(() => connection.closeSync());

const EVENTS: RawEvent[] = [
  { event_id: 'e1', source: 'web', user_id: ' Ann@Example.com ', event_name: 'visit', ts: `${LAST_DAY}T10:00:00Z` },
  { event_id: 'e2', source: 'web', user_id: 'bob', event_name: 'visit', ts: `${LAST_DAY}T11:00:00Z` },
  { event_id: 'e3', source: 'app', user_id: 'carl', event_name: 'open', ts: `${LAST_DAY}T12:00:00Z` },
];
const IDENTITIES: IdentityRow[] = [
  { source: 'web', user_id: 'ann@example.com', person_id: 'p_ann' },
  { source: 'web', user_id: 'ANN@example.com', person_id: 'p_other' },
  { source: 'app', user_id: 'carl', person_id: 'p_carl' },
];

/** The local checks over a lake folder, with their state folder; the query's own rows beside them. */
async function world(lake: string) {
  const state = await mkdtemp(join(tmpdir(), 'source-checks-state-'));
  const engine = new DuckDbEngine(connection, lake);
  const checks = new LocalSourceChecks(connection, engine, lake, state);
  return {
    state,
    folder: join(state, CHECKS_FOLDER),
    kept: async () => sortedRows(await checks.rows(AS_OF, await engine.lake())),
    queried: async () => sortedRows(await querySourceChecks(engine).rows(AS_OF, await engine.lake())),
  };
}

const keptFiles = async (folder: string) => (await readdir(folder)).filter((name) => name.endsWith('.parquet')).sort();

describe('the local source checks keep the identity map keys', () => {
  it('return the rows of the query, from the kept keys once built, which name no user id', async () => {
    await withLake(async (lake) => {
      await writeRawLake(lake, EVENTS, IDENTITIES);
      const w = await world(lake);
      const expected = await w.queried();
      expect(expected.some((row) => row.includes('"identity_conflicts":1'))).toBe(true);
      expect(await w.kept()).toEqual(expected);
      const [file] = await keptFiles(w.folder);
      const built = await stat(join(w.folder, file as string));
      expect(await w.kept()).toEqual(expected);
      // Read, not built again: the same file, untouched.
      expect(await keptFiles(w.folder)).toEqual([file]);
      expect((await stat(join(w.folder, file as string))).mtimeMs).toBe(built.mtimeMs);
      const bytes = (await readFile(join(w.folder, file as string))).toString('latin1');
      for (const id of ['ann@example.com', 'carl', 'p_ann', 'p_carl']) expect(bytes).not.toContain(id);
      await rm(w.state, { recursive: true, force: true });
    });
  });

  it('build the keys again when an identities file changed: a newly mapped user is no longer unmapped', async () => {
    await withLake(async (lake) => {
      await writeRawLake(lake, EVENTS, IDENTITIES);
      const w = await world(lake);
      const before = await w.kept();
      const [old] = await keptFiles(w.folder);
      await writeFile(
        join(lake, 'identities', 'identities.jsonl'),
        `${[...IDENTITIES, { source: 'web', user_id: 'bob', person_id: 'p_bob' }].map((row) => JSON.stringify(row)).join('\n')}\n`,
      );
      const after = await w.kept();
      expect(after).toEqual(await w.queried());
      expect(after).not.toEqual(before);
      const web = (rows: string[]) => rows.map((row) => JSON.parse(row)).find((row) => row.grain === 'source' && row.source === 'web');
      expect([web(before).unmapped_events, web(after).unmapped_events]).toEqual([1, 0]);
      // One kept file: the stale one is gone.
      const files = await keptFiles(w.folder);
      expect(files).toHaveLength(1);
      expect(files).not.toContain(old);
      await rm(w.state, { recursive: true, force: true });
    });
  });

  it('detect a corrupted kept file or record and build the keys again', async () => {
    await withLake(async (lake) => {
      await writeRawLake(lake, EVENTS, IDENTITIES);
      const w = await world(lake);
      const expected = await w.queried();
      await w.kept();
      const [file] = await keptFiles(w.folder);
      // A kept file that is valid Parquet but holds other keys (every key dropped): its checksum no longer matches.
      await connection.run(
        `COPY (SELECT source, user_key FROM read_parquet('${join(w.folder, file as string)}') WHERE false) TO '${join(w.folder, 'x.parquet')}' (FORMAT parquet)`,
      );
      await writeFile(join(w.folder, file as string), await readFile(join(w.folder, 'x.parquet')));
      await rm(join(w.folder, 'x.parquet'));
      expect(await w.kept()).toEqual(expected);
      // A truncated record.
      await writeFile(join(w.folder, 'identity-keys.json'), '{"fingerprint": ');
      expect(await w.kept()).toEqual(expected);
      // The kept file removed.
      for (const name of await keptFiles(w.folder)) await rm(join(w.folder, name));
      expect(await w.kept()).toEqual(expected);
      await rm(w.state, { recursive: true, force: true });
    });
  });

  it('work without an identity map', async () => {
    await withLake(async (lake) => {
      await writeRawLake(lake, EVENTS);
      const w = await world(lake);
      expect(await w.kept()).toEqual(await w.queried());
      expect(await w.kept()).toEqual(await w.queried());
      await rm(w.state, { recursive: true, force: true });
    });
  });
});
