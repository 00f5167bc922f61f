import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringLiteral } from '../../shared/compiler/sql-text.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { duckdbLakeRelations } from '../../shared/local/duckdb-lake.ts';
import { findLakeFiles } from '../../shared/local/lake-files.ts';

let duckdb: DuckDBConnection;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lake-reading-'));
  duckdb = await openDuckDb({ threads: 1 });
});

afterAll(async () => {
  duckdb?.closeSync();
  await rm(root, { recursive: true, force: true });
});

const line = (id: string, user: string, ts = '"2026-05-20T12:00:00Z"') =>
  `{"event_id":"${id}","source":"p","user_id":"${user}","event_name":"e","ts":${ts}}\n`;

async function jsonlLake(name: string, files: Record<string, string>): Promise<string> {
  const lake = join(root, name);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(lake, path, '..'), { recursive: true });
    await writeFile(join(lake, path), text);
  }
  return lake;
}

/** Writes one Parquet file from a SELECT. */
async function parquet(file: string, select: string): Promise<void> {
  await mkdir(join(file, '..'), { recursive: true });
  await duckdb.run(`COPY (${select}) TO ${stringLiteral(file)} (FORMAT parquet)`);
}

async function read(lake: string) {
  const view = await new DuckDbEngine(duckdb, lake).lake();
  const rows = (
    await duckdb.runAndReadAll(
      `SELECT user_id, CAST(ts AS VARCHAR) AS ts, properties, value, dt FROM ${view.relations.events} AS e ORDER BY user_id`,
    )
  ).getRowObjectsJS();
  return { rows, warnings: view.warnings ?? [] };
}

describe('the local lake reader', () => {
  it('reads exactly the files found, so a lake named lake[1] never reads its sibling lake1', async () => {
    const lake = await jsonlLake('lake[1]', { 'events/dt=2026-05-20/e.jsonl': line('a', 'in_bracket_lake') });
    await jsonlLake('lake1', { 'events/dt=2026-05-20/e.jsonl': line('b', 'in_lake1') });
    expect((await read(lake)).rows.map((r) => r.user_id)).toEqual(['in_bracket_lake']);
  });

  it('warns about events/ folders that are not dt=YYYY-MM-DD of a real date, and reads none of them', async () => {
    const lake = await jsonlLake('odd_folders', {
      'events/dt=2026-05-20/e.jsonl': line('a', 'kept'),
      'events/dt=2026-05-2x/e.jsonl': line('b', 'bad_day'),
      'events/dt=2026-13-45/e.jsonl': line('c', 'bad_month'),
      'events/date=2026-05-21/e.jsonl': line('d', 'other_key'),
    });
    const { rows, warnings } = await read(lake);
    expect(rows.map((r) => r.user_id)).toEqual(['kept']);
    expect(warnings).toHaveLength(3);
    for (const folder of ['dt=2026-05-2x', 'dt=2026-13-45', 'date=2026-05-21']) expect(warnings.some((w) => w.includes(folder))).toBe(true);
  });

  it('gives Parquet files without properties and value NULL for them', async () => {
    const lake = join(root, 'parquet_missing_optional');
    await parquet(
      join(lake, 'events/dt=2026-05-20/p.parquet'),
      "SELECT 'a' AS event_id, 'p' AS source, 'no_optional' AS user_id, 'e' AS event_name, TIMESTAMP '2026-05-20 12:00:00' AS ts",
    );
    const { rows, warnings } = await read(lake);
    expect(rows).toEqual([{ user_id: 'no_optional', ts: '2026-05-20 12:00:00', properties: null, value: null, dt: '2026-05-20' }]);
    expect(warnings).toEqual([]);
  });

  it('reads a ts that is not a timestamp as NULL (an invalid row) and a value that is not a number as NULL, with a warning', async () => {
    const lake = join(root, 'parquet_mistyped');
    await parquet(
      join(lake, 'events/dt=2026-05-20/text_ts.parquet'),
      "SELECT 'a' AS event_id, 'p' AS source, 'text_ts' AS user_id, 'e' AS event_name, '2026-05-20T12:00:00Z' AS ts, '{}' AS properties, 'abc' AS value",
    );
    await parquet(
      join(lake, 'events/dt=2026-05-20/bigint_ts.parquet'),
      "SELECT 'b' AS event_id, 'p' AS source, 42 AS user_id, 'e' AS event_name, 1779278400000 AS ts, '{\"k\":1}' AS properties, 5 AS value",
    );
    const { rows, warnings } = await read(lake);
    expect(rows.map((r) => [r.user_id, r.ts, r.value])).toEqual([
      ['42', null, 5],
      ['text_ts', null, null],
    ]);
    expect(warnings.join('\n')).toMatch(/text_ts\.parquet: ts is VARCHAR, value is VARCHAR, read as NULL/);
    expect(warnings.join('\n')).toMatch(/bigint_ts\.parquet: ts is (INTEGER|BIGINT), read as NULL/);
  });

  it('names the file it cannot read, in one line', async () => {
    const lake = await jsonlLake('corrupt_parquet', { 'events/dt=2026-05-20/bad.parquet': 'not parquet at all' });
    const error = await new DuckDbEngine(duckdb, lake).lake().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain(join(lake, 'events/dt=2026-05-20/bad.parquet'));
    expect(error?.message).not.toContain('\n');
  });

  it('names a JSON Lines file that is not UTF-8, in one line', async () => {
    const lake = await jsonlLake('not_utf8', { 'events/dt=2026-05-20/e.jsonl': '' });
    await writeFile(
      join(lake, 'events/dt=2026-05-20/e.jsonl'),
      Buffer.concat([Buffer.from(line('a', 'ok')), Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a])]),
    );
    const engine = new DuckDbEngine(duckdb, lake);
    const view = await engine.lake();
    const error = await engine.rows(`SELECT count(*) FROM ${view.relations.events} AS e`).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toBe(`cannot read ${join(lake, 'events/dt=2026-05-20/e.jsonl')} (line 2): is not valid UTF-8`);
  });
  it('names a .gz JSON Lines file that is not gzip, in one line, when the query is the first to read it', async () => {
    // The listing checks every .gz file first (test/local/gzip-check.test.ts); a file replaced after it reaches the reader.
    const lake = await jsonlLake('not_gzip', { 'events/dt=2026-05-20/e.jsonl.gz': line('a', 'ok') });
    const engine = new DuckDbEngine(duckdb, lake);
    const { events } = duckdbLakeRelations(await findLakeFiles(lake));
    const error = await engine.rows(`SELECT count(*) FROM ${events} AS e`).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toBe(
      `cannot read ${join(lake, 'events/dt=2026-05-20/e.jsonl.gz')}: not gzip-compressed, though its name ends in .gz`,
    );
  });
});
