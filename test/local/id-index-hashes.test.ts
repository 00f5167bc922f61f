import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringLiteral } from '../../shared/compiler/sql-text.ts';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { findLakeFiles } from '../../shared/local/lake-files.ts';
import { LocalTileStore, readJson, writeJsonAtomically } from '../../shared/local/local-tiles.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { catalogMeasures } from '../../shared/tiles/measures.ts';
import { tempDir } from '../support/cli.ts';
import { header, login, writeLake } from '../support/lake.ts';

const measures = catalogMeasures(
  buildCatalog([{ path: 'definitions/logged_in.yaml', text: `${header('logged_in')}rule:\n  event: login\n  within: 7d\n` }]).definitions,
);
const DAYS = ['2024-03-01', '2024-03-02', '2024-03-03', '2024-03-04'];

describe('the index of counted ids with hashes (a refresh compares ids on the days their hashes share only)', () => {
  it('finds an id counted on an old day again on a new day, and indexes again a day stored without hashes', async () => {
    const lake = await tempDir();
    const state = await tempDir();
    await writeLake(lake, [
      login('a', 'ann', '2024-03-01T10:00:00Z'),
      login('dup', 'ann', '2024-03-01T11:00:00Z'),
      login('b', 'bob', '2024-03-02T10:00:00Z'),
    ]);
    const connection = await openDuckDb();
    const engine = new DuckDbEngine(connection, lake);
    const store = new LocalTileStore(connection, state);
    const refresh = async () => store.refresh(measures, DAYS, (await engine.lake()).relations, await findLakeFiles(lake));
    const contested = async () =>
      (await engine.rows(`SELECT event_id FROM ${store.relations([]).contestedIds} AS c ORDER BY event_id`)).map((r) => r.event_id);
    const ids = join(state, 'tiles', 'ids', 'day=2024-03-01');
    const hashes = async () =>
      engine.rows(
        `SELECT event_id, h = md5_number_lower(event_id) AS hashed FROM read_parquet(${stringLiteral(join(ids, 'ids.parquet'))}) AS i ORDER BY event_id`,
      );
    // GIVEN the index built over two days, no id on two of them
    await refresh();
    expect(await contested()).toEqual([]);
    expect(await hashes()).toEqual([
      { event_id: 'a', hashed: true },
      { event_id: 'dup', hashed: true },
    ]);
    // WHEN a new day brings a copy of `dup` (another instant, another day) THEN the refresh, comparing the
    // new day's ids with the index, finds `dup` on 03-01 and 03-03
    await mkdir(join(lake, 'events', 'dt=2024-03-03'), { recursive: true });
    await writeFile(
      join(lake, 'events', 'dt=2024-03-03', 'events.jsonl'),
      `${[login('dup', 'ann', '2024-03-03T09:00:00Z'), login('c', 'cy', '2024-03-03T10:00:00Z')].map((e) => JSON.stringify(e)).join('\n')}\n`,
    );
    await refresh();
    expect(await contested()).toEqual(['dup']);
    expect(await readJson(join(state, 'tiles', 'contested.json'))).toEqual({ '2024-03-01': ['dup'], '2024-03-03': ['dup'] });
    // WHEN 03-01 is stored as an index of ids without hashes (an earlier layout) THEN the next refresh indexes it again
    await connection.run(
      `COPY (SELECT event_id FROM read_parquet(${stringLiteral(join(ids, 'ids.parquet'))})) TO ${stringLiteral(join(ids, 'old.parquet'))} (FORMAT parquet)`,
    );
    await connection.run(
      `COPY (SELECT * FROM read_parquet(${stringLiteral(join(ids, 'old.parquet'))})) TO ${stringLiteral(join(ids, 'ids.parquet'))} (FORMAT parquet)`,
    );
    const fingerprint = (await readJson<{ day: string; inputs: unknown; layout?: string }>(join(ids, 'fingerprint.json'))) ?? {
      day: '',
      inputs: [],
    };
    await writeJsonAtomically(join(ids, 'fingerprint.json'), { day: fingerprint.day, inputs: fingerprint.inputs });
    await refresh();
    expect(await hashes()).toEqual([
      { event_id: 'a', hashed: true },
      { event_id: 'dup', hashed: true },
    ]);
    expect(await readJson(join(state, 'tiles', 'contested.json'))).toEqual({ '2024-03-01': ['dup'], '2024-03-03': ['dup'] });
  });
});
