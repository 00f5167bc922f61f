import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { stringLiteral } from '../../shared/compiler/sql-text.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { DUCKDB_DECODE_BYTES, DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { compareByteOrder, InvalidMembersFileError, ParquetMembersCodec } from '../../shared/store/parquet-members-codec.ts';
import { tempDir } from '../support/cli.ts';

/** Ids whose byte order differs from JavaScript's default sort, with a duplicate. */
const TRICKY = ['b', 'a', 'Z', 'é', '😀', 'ﬀ', 'a', '', ' x', 'user@example.com', "o'brien", 'line\nbreak', '\u0000nul'];
const byBytes = (ids: readonly string[]) =>
  [...new Set(ids)]
    .map((id) => Buffer.from(id))
    .sort(Buffer.compare)
    .map((bytes) => bytes.toString());

describe('the Parquet members codec without DuckDB', () => {
  const codec = new ParquetMembersCodec();
  let duckdb: DuckDBConnection;
  let dir: string;

  beforeAll(async () => {
    duckdb = await openDuckDb();
    dir = await tempDir('cohorts-codec-');
  });

  /** What DuckDB reads from a members file: its column names and types, and its rows in file order. */
  const duckdbReads = async (bytes: Uint8Array, name: string) => {
    const file = join(dir, name);
    await writeFile(file, bytes);
    const reader = await duckdb.runAndReadAll(`SELECT * FROM read_parquet(${stringLiteral(file)}, hive_partitioning = false)`);
    return { columns: reader.columnNames(), types: reader.columnTypes().map(String), rows: reader.getRows().map((r) => r[0]) };
  };

  /** How DuckDB reads a members file, the local engine's reference: ORDER BY person_id, every row kept, as text. */
  const reference = async (file: string) =>
    (await duckdb.runAndReadAll(`SELECT person_id FROM read_parquet(${stringLiteral(file)}, hive_partitioning = false) ORDER BY person_id`))
      .getRows()
      .map((row) => String(row[0]));

  it('writes one person_id column, unique and in byte order, that DuckDB reads back exactly', async () => {
    // Act
    const bytes = await codec.encode(TRICKY);
    const read = await duckdbReads(bytes, 'tricky.parquet');
    // Assess
    expect(read.columns).toEqual(['person_id']);
    expect(read.types).toEqual(['VARCHAR']);
    expect(read.rows).toEqual(byBytes(TRICKY));
    // UTF-8 byte order: 'ﬀ' (EF AC 80) before '😀' (F0 9F 98 80), unlike UTF-16 order.
    expect(read.rows.indexOf('ﬀ')).toBeLessThan(read.rows.indexOf('😀'));
  });

  it('reads what DuckDB writes, and DuckDB reads what it writes, for many row groups', async () => {
    // Prepare: more ids than one row group of either writer holds (DuckDB: 122,880 rows).
    const ids = Array.from({ length: 130_000 }, (_, i) => `person-${(i * 7919) % 130_000}-${i % 3 === 0 ? 'ü' : ''}`);
    const duck = new DuckDbEngine(duckdb, dir);
    // Act
    const fromDuckDb = await codec.decode(await duck.encode(ids));
    const ours = await codec.encode(ids);
    const duckdbDecoded = await duck.decode(ours);
    // Assess
    // Joined: a deep comparison of 130,000 elements takes vitest seconds.
    const expected = byBytes(ids).join('\n');
    expect(fromDuckDb.join('\n')).toBe(expected);
    expect(duckdbDecoded.join('\n')).toBe(expected);
    expect((await codec.decode(ours)).join('\n')).toBe(expected);
  });

  it('round-trips the tricky ids through DuckDB files in both directions', async () => {
    const duck = new DuckDbEngine(duckdb, dir);

    expect(await codec.decode(await duck.encode(TRICKY))).toEqual(byBytes(TRICKY));
    expect(await duck.decode(await codec.encode(TRICKY))).toEqual(byBytes(TRICKY));
  });

  it('writes and reads an empty cohort', async () => {
    const duck = new DuckDbEngine(duckdb, dir);
    const bytes = await codec.encode([]);

    expect(await duckdbReads(bytes, 'empty.parquet')).toMatchObject({ columns: ['person_id'], rows: [] });
    expect(await codec.decode(bytes)).toEqual([]);
    expect(await codec.decode(await duck.encode([]))).toEqual([]);
  });

  it('puts a file written elsewhere in byte order and refuses one that is not a person_id column', async () => {
    // Prepare
    const unordered = join(dir, 'unordered.parquet');
    await duckdb.run(
      `COPY (SELECT * FROM (VALUES ('b'), ('😀'), ('ﬀ'), ('a')) t(person_id)) TO ${stringLiteral(unordered)} (FORMAT parquet)`,
    );
    const other = join(dir, 'other.parquet');
    await duckdb.run(`COPY (SELECT 'a' AS user_id, 1 AS n) TO ${stringLiteral(other)} (FORMAT parquet)`);
    // Act
    const decoded = await codec.decode(new Uint8Array(await readFile(unordered)));
    const refused = codec.decode(new Uint8Array(await readFile(other)));
    // Assess
    expect(decoded).toEqual(['a', 'b', 'ﬀ', '😀']);
    await expect(refused).rejects.toBeInstanceOf(InvalidMembersFileError);
    await expect(refused).rejects.toThrow('found: user_id BYTE_ARRAY/UTF8, n INT32');
  });

  it('has the local engine read a file as DuckDB does, in JavaScript only when that gives the same list', async () => {
    // Prepare: DuckDB's reading (ORDER BY person_id, every row kept, see reference) is the reference.
    const duck = new DuckDbEngine(duckdb, dir);
    const files = {
      own: `SELECT * FROM (VALUES ('a'), ('b'), ('ﬀ'), ('😀')) t(person_id)`,
      duplicates: `SELECT * FROM (VALUES ('b'), ('a'), ('b')) t(person_id)`,
      nulls: `SELECT * FROM (VALUES ('a'), (NULL)) t(person_id)`,
      extraColumn: `SELECT 'b' AS person_id, 1 AS n UNION ALL SELECT 'a', 2`,
      numbers: `SELECT 2 AS person_id UNION ALL SELECT 10`,
    };
    for (const [name, sql] of Object.entries(files)) {
      const file = join(dir, `reading-${name}.parquet`);
      await duckdb.run(`COPY (${sql}) TO ${stringLiteral(file)} (FORMAT parquet)`);

      // Act
      const read = await duck.decode(new Uint8Array(await readFile(file)));

      // Assess
      expect(read, name).toEqual(await reference(file));
    }
  });

  it('has the local engine read a large file as DuckDB does, with DuckDB, whoever wrote it', async () => {
    // Prepare: files of 5,000 ids of 32 characters (160 kB raw), above the size DuckDB reads them from.
    const duck = new DuckDbEngine(duckdb, dir);
    const ids = 'SELECT md5(i::VARCHAR) AS person_id, i FROM range(5000) t(i)';
    const files = {
      unordered: `SELECT person_id FROM (${ids})`,
      duplicates: `SELECT person_id FROM (${ids}) UNION ALL SELECT person_id FROM (${ids}) WHERE i % 7 = 0`,
      nulls: `SELECT CASE WHEN i % 1000 = 0 THEN NULL ELSE person_id END AS person_id FROM (${ids})`,
      extraColumn: `SELECT person_id, i AS n FROM (${ids})`,
      numbers: `SELECT i * 7919 % 5000 AS person_id FROM range(5000) t(i)`,
    };
    const own = await codec.encode((await reference(await written('own', `SELECT person_id FROM (${ids})`))).reverse());
    expect(own.byteLength).toBeGreaterThanOrEqual(DUCKDB_DECODE_BYTES);
    const read = async (bytes: Uint8Array) => JSON.stringify(await duck.decode(bytes));
    async function written(name: string, sql: string) {
      const file = join(dir, `large-${name}.parquet`);
      await duckdb.run(`COPY (${sql}) TO ${stringLiteral(file)} (FORMAT parquet)`);
      return file;
    }

    // Act / Assess: as JSON, as a deep comparison of thousands of elements is slow
    expect(await read(own)).toBe(JSON.stringify(await codec.decode(own)));
    for (const [name, sql] of Object.entries(files)) {
      const file = await written(name, sql);
      const bytes = new Uint8Array(await readFile(file));
      expect(bytes.byteLength, name).toBeGreaterThanOrEqual(DUCKDB_DECODE_BYTES);
      expect(await read(bytes), name).toBe(JSON.stringify(await reference(file)));
    }
  });

  it('writes a lone surrogate as U+FFFD, as UTF-8 holds it, keeping the file unique and in byte order', async () => {
    // Prepare: two lone surrogates that both become U+FFFD, and ids on either side of it in byte order.
    const ids = ['\ud800', 'z', '\udfff', '\uffff', '\ufffd', '😀'];
    // Act
    const read = await duckdbReads(await codec.encode(ids), 'lone-surrogates.parquet');
    // Assess
    expect(read.rows).toEqual(['z', '\ufffd', '\uffff', '😀']);
  });

  it('has the local engine write the very file the Lambdas write, read back by DuckDB as its own COPY wrote it', async () => {
    // Prepare
    const duck = new DuckDbEngine(duckdb, dir);
    const copied = join(dir, 'copied.parquet');
    // A SQL literal holds no NUL.
    const ids = TRICKY.filter((id) => !id.includes('\u0000'));
    await duckdb.run(
      `COPY (SELECT DISTINCT person_id FROM (VALUES ${ids.map((id) => `(${stringLiteral(id)})`).join(', ')}) t(person_id) ORDER BY person_id) TO ${stringLiteral(copied)} (FORMAT parquet)`,
    );
    // Act
    const bytes = await duck.encode(ids);
    // Assess
    expect(Buffer.from(bytes).equals(Buffer.from(await codec.encode(ids)))).toBe(true);
    expect(await duckdbReads(bytes, 'engine.parquet')).toEqual(await duckdbReads(new Uint8Array(await readFile(copied)), 'copy.parquet'));
  });

  it('compares strings in UTF-8 byte order', () => {
    // Prepare: code units from every range that matters, in random pairs.
    const units = ['a', 'Z', '\u00e9', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uffff', '\ud83d\ude00', '\ud800\udc00', '\udbff\udfff'];
    const strings = units.flatMap((x) => units.map((y) => x + y));
    // Act & Assess
    for (const x of strings) {
      for (const y of strings) expect(Math.sign(compareByteOrder(x, y)), `${x} ${y}`).toBe(Buffer.compare(Buffer.from(x), Buffer.from(y)));
    }
  });
});
