import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringLiteral } from '../../shared/compiler/sql-text.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { tempDir } from '../support/cli.ts';
import { jsonMembers } from '../support/json-members.ts';
import { eventRow, identityRow, InexpressibleInParquetError } from '../support/lake-rows.ts';
import { LAKE_VARIANTS, writeLakeVariant } from '../support/parquet-lake.ts';
import { numberText, tsMicros } from '../support/spec-values.ts';

/** Epoch microseconds of a UTC instant given in whole seconds plus microseconds. */
const utc = (year: number, month: number, day: number, h: number, m: number, s: number, micros = 0) =>
  BigInt(Date.UTC(year, month - 1, day, h, m, s)) * 1000n + BigInt(micros);

describe('tsMicros reads the SPEC timestamp grammar exactly', () => {
  it.each([
    ['2024-03-14T23:59:59.999999Z', utc(2024, 3, 14, 23, 59, 59, 999_999)],
    ['2024-03-14T12:00:00Z', utc(2024, 3, 14, 12, 0, 0)],
    ['2024-02-29T19:00:00.000001-05:00', utc(2024, 3, 1, 0, 0, 0, 1)],
    ['2024-03-01T01:00:00.5+01:00', utc(2024, 3, 1, 0, 0, 0, 500_000)],
    ['2024-03-01T00:00:00.123456+18:00', utc(2024, 2, 29, 6, 0, 0, 123_456)],
    ['2024-03-01T00:00:00-18:00', utc(2024, 3, 1, 18, 0, 0)],
    ['2024-03-01T00:00:00-00:00', utc(2024, 3, 1, 0, 0, 0)],
    ['1969-12-31T23:59:59.999999Z', -1n],
    ['2000-02-29T00:00:00Z', utc(2000, 2, 29, 0, 0, 0)],
    ['0001-01-01T00:00:00Z', -62_135_596_800_000_000n],
  ])('%s is %s µs', (text, micros) => {
    expect(tsMicros(text)).toBe(micros);
  });

  it.each([
    '2024-03-14T12:00:00', // no offset
    '2024-03-14 12:00:00Z', // a space for T
    '2024-03-14T12:00:00.1234567Z', // 7 fraction digits
    '2024-03-14T12:00:00z', // lower-case z
    '2024-03-14T12:00:00+0100', // offset without colon
    '2024-03-14T12:00:00.Z', // empty fraction
    '2024-03-14T12:00Z', // no seconds
    '2024-03-14T12:00:00+18:01', // offset beyond 18:00
    '2024-03-14T12:00:00+05:60',
    '2023-02-29T00:00:00Z', // not a date
    '1900-02-29T00:00:00Z',
    '2024-04-31T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-00-10T00:00:00Z',
    '2024-03-00T00:00:00Z',
    '2024-03-14T24:00:00Z',
    '2024-03-14T12:60:00Z',
    '2024-03-14T12:00:60Z',
    ' 2024-03-14T12:00:00Z',
    '2024-03-14T12:00:00Z\n',
    '２０２４-03-14T12:00:00Z', // non-ASCII digits
  ])('%j is unparsable', (text) => {
    expect(tsMicros(text)).toBeUndefined();
  });
});

describe('numberText gives the SPEC section 4 text of a JSON number', () => {
  it.each([
    ['42', '42'],
    ['-7', '-7'],
    ['-0', '-0'],
    ['4.50', '4.5'],
    ['5.0', '5.0'],
    ['5e0', '5.0'],
    ['1e1', '10.0'],
    ['2.50e2', '250.0'],
    ['0.0001', '0.0001'],
    ['123456789012345678901', '123456789012345678901'],
  ])('%s reads %s', (raw, text) => {
    expect(numberText(raw)).toBe(text);
  });

  it.each(['1e15', '0.00001', '0.0', '-0.0', '1e400'])('%s has no defined text', (raw) => {
    expect(numberText(raw)).toBeUndefined();
  });
});

describe('jsonMembers keeps each member of a JSON object as written', () => {
  it('gives the raw text of every value, nested braces and escaped quotes included', () => {
    const members = jsonMembers(' {"a" :{"x": [1, "}\\"]", {"y": -0}]} , "b":"q\\"}", "c": -0 ,"d":5e0, "e":null,"f":true}\r');
    expect(Object.fromEntries(members ?? [])).toEqual({
      a: '{"x": [1, "}\\"]", {"y": -0}]}',
      b: '"q\\"}"',
      c: '-0',
      d: '5e0',
      e: 'null',
      f: 'true',
    });
  });

  it('keeps the last of a key written twice, as JSON.parse does', () => {
    expect(jsonMembers('{"a": 1, "a": 2.50}')?.get('a')).toBe('2.50');
  });

  it('reads an escaped key as its text', () => {
    expect([...(jsonMembers('{"\\u0061b": 1}')?.keys() ?? [])]).toEqual(['ab']);
  });

  it('reads an empty object', () => {
    expect(jsonMembers('{ }')?.size).toBe(0);
  });

  it.each(['[1, 2]', '"text"', '42', 'null', '{"a": 1', "{'a': 1}", '{"a": 1,}', '{"a": NaN}', '{"a": 1} x', ''])(
    '%j is not a JSON object',
    (line) => {
      expect(jsonMembers(line)).toBeUndefined();
    },
  );
});

describe('eventRow reads one JSONL line as SPEC section 1 says', () => {
  it('keeps the properties text as written, number spellings and all', () => {
    const line =
      '{"event_id": "e1", "source": "crm", "user_id": " Ann@X.com ", "event_name": "x", "ts": "2024-03-14T23:59:59.999999+00:00", "properties": {"seats": 5e0, "price": 4.50, "z": -0, "q": "a\\"b"}, "value": 1.5e1}';
    expect(eventRow(line)).toEqual({
      event_id: 'e1',
      source: 'crm',
      user_id: ' Ann@X.com ',
      event_name: 'x',
      ts: utc(2024, 3, 14, 23, 59, 59, 999_999),
      properties: '{"seats": 5e0, "price": 4.50, "z": -0, "q": "a\\"b"}',
      value: 15,
    });
  });

  it('leaves every absent column NULL', () => {
    expect(eventRow('{"event_id": "e1"}')).toEqual({
      event_id: 'e1',
      source: null,
      user_id: null,
      event_name: null,
      ts: null,
      properties: null,
      value: null,
    });
  });

  it.each([
    ['a properties string holding an object', '{"properties": "{\\"a\\": 1}"}', 'properties', null],
    ['a properties array', '{"properties": [1]}', 'properties', null],
    ['a properties number', '{"properties": 5}', 'properties', null],
    ['a value written as a string', '{"value": "12"}', 'value', null],
    ['a value true', '{"value": true}', 'value', null],
    ['a value -0', '{"value": -0}', 'value', -0],
    ['a ts written as a number', '{"ts": 1710460800}', 'ts', null],
    ['an unparsable ts', '{"ts": "2024-03-14T12:00:00.1234567Z"}', 'ts', null],
    ['a user_id written as a number', '{"user_id": 4.50}', 'user_id', '4.5'],
    ['a user_id written as an integer', '{"user_id": -0}', 'user_id', '-0'],
    ['an event_id true', '{"event_id": true}', 'event_id', 'true'],
    ['an empty source', '{"source": ""}', 'source', ''],
    ['a null event_name', '{"event_name": null}', 'event_name', null],
  ])('reads %s', (_what, line, column, expected) => {
    expect(eventRow(line)?.[column as 'value']).toBe(expected);
  });

  it.each(['{"event_id": "e1", "ts": }', '[{"event_id": "e1"}]', '"e1"', 'null', '{"event_id": "e1"} {"event_id": "e2"}'])(
    'reads %j, which is not a JSON object, as a row of NULLs',
    (line) => {
      expect(Object.values(eventRow(line) ?? { x: 'blank' }).every((v) => v === null)).toBe(true);
    },
  );

  it.each(['', '   ', '\r', ' \t '])('drops the blank line %j', (line) => {
    expect(eventRow(line)).toBeUndefined();
  });

  it.each(['{"user_id": {"a": 1}}', '{"event_id": [1]}', '{"source": 1e20}'])('refuses %s, which no string column can hold', (line) => {
    expect(() => eventRow(line)).toThrow(InexpressibleInParquetError);
  });
});

describe('identityRow', () => {
  it('keeps the ids as written', () => {
    expect(identityRow('{"source": "crm", "user_id": "\\tBob@X.com", "person_id": "p-1"}')).toEqual({
      source: 'crm',
      user_id: '\tBob@X.com',
      person_id: 'p-1',
    });
  });

  it('reads a line that is not an object as a row of NULLs', () => {
    expect(identityRow('{"source": "crm",')).toEqual({ source: null, user_id: null, person_id: null });
  });
});

describe('writeLakeVariant', () => {
  const lines = [
    '{"event_id": "a", "source": "product", "user_id": "u1", "event_name": "login", "ts": "2024-03-14T23:59:59.999999Z", "properties": {"n": -0, "m": 5e0}, "value": 4.50}',
    '',
    'not json',
    '{"event_id": "b", "source": "product", "user_id": "u2", "event_name": "login", "ts": "2024-03-15T00:00:00.000001+01:00"}',
  ];
  let root: string;
  let connection: Awaited<ReturnType<typeof openDuckDb>>;

  const query = async (sql: string) => (await connection.runAndReadAll(sql)).getRowsJS();
  const file = (variant: string, ...path: string[]) => stringLiteral(join(root, variant, ...path));

  beforeAll(async () => {
    // GIVEN a JSONL lake with a plain and a gzipped events file on one day, identities and a stray file
    root = await tempDir('cohorts-parquet-lake-');
    const day = join(root, 'jsonl', 'events', 'dt=2024-03-14');
    await mkdir(day, { recursive: true });
    await mkdir(join(root, 'jsonl', 'identities'));
    await writeFile(join(day, 'app.jsonl'), `${lines.join('\n')}\n`);
    await writeFile(join(day, 'app.jsonl.gz'), gzipSync(`${lines[0]}\n`));
    await writeFile(join(day, 'notes.txt'), 'kept');
    await mkdir(join(root, 'jsonl', 'events', 'dt=2024-03-15'));
    await writeFile(
      join(root, 'jsonl', 'events', 'dt=2024-03-15', 'late.jsonl'),
      '{"event_id": "c", "ts": "2024-03-15T00:00:00Z", "value": 2, "properties": null}\n',
    );
    await writeFile(join(root, 'jsonl', 'identities', 'ids.jsonl'), '{"source": "crm", "user_id": " U1 ", "person_id": "p1"}\n[]\n');
    // WHEN it is written as each variant
    for (const variant of LAKE_VARIANTS) {
      await writeLakeVariant(join(root, 'jsonl'), join(root, variant), variant);
    }
    connection = await openDuckDb();
  });

  afterAll(async () => {
    connection?.closeSync();
    await rm(root, { recursive: true, force: true });
  });

  it('writes one Parquet file per JSONL file in the same folders and copies the rest', async () => {
    expect((await readdir(join(root, 'parquet-timestamp'), { recursive: true })).sort()).toEqual([
      'events',
      'events/dt=2024-03-14',
      'events/dt=2024-03-14/app-gz.parquet',
      'events/dt=2024-03-14/app.parquet',
      'events/dt=2024-03-14/notes.txt',
      'events/dt=2024-03-15',
      'events/dt=2024-03-15/late.parquet',
      'identities',
      'identities/ids.parquet',
    ]);
  });

  it.each([
    ['parquet-timestamp', 0],
    ['parquet-timestamptz', 1],
  ])('types ts in %s as a microsecond TIMESTAMP with isAdjustedToUTC=%i', async (variant, adjusted) => {
    const schema = await query(
      `SELECT name, type, logical_type FROM parquet_schema(${file(variant, 'events', 'dt=2024-03-14', 'app.parquet')}) WHERE name = 'ts' OR name = 'value'`,
    );
    expect(schema).toEqual([
      ['ts', 'INT64', `TimestampType(isAdjustedToUTC=${adjusted}, unit=TimeUnit(MILLIS=<null>, MICROS=MicroSeconds(), NANOS=<null>))`],
      ['value', 'DOUBLE', null],
    ]);
  });

  it.each(['parquet-timestamp', 'parquet-timestamptz'])(
    'keeps every row of %s in line order, exact to the microsecond',
    async (variant) => {
      const rows = await query(
        `SELECT event_id, source, user_id, event_name, epoch_us(ts), properties, value FROM read_parquet(${file(variant, 'events', 'dt=2024-03-14', 'app.parquet')})`,
      );
      expect(rows).toEqual([
        ['a', 'product', 'u1', 'login', utc(2024, 3, 14, 23, 59, 59, 999_999), '{"n": -0, "m": 5e0}', 4.5],
        [null, null, null, null, null, null, null],
        ['b', 'product', 'u2', 'login', utc(2024, 3, 14, 23, 0, 0, 1), null, null],
      ]);
      expect(await query(`SELECT * FROM read_parquet(${file(variant, 'identities', 'ids.parquet')})`)).toEqual([
        ['crm', ' U1 ', 'p1'],
        [null, null, null],
      ]);
    },
  );

  it('mixes JSONL, TIMESTAMP and TIMESTAMPTZ files in turn in the mixed variant', async () => {
    const files = (await readdir(join(root, 'mixed'), { recursive: true })).filter((f) => /\.(jsonl|parquet)/.test(f)).sort();
    expect(files).toEqual([
      'events/dt=2024-03-14/app-gz.parquet',
      'events/dt=2024-03-14/app.jsonl',
      'events/dt=2024-03-15/late.parquet',
      'identities/ids.jsonl',
    ]);
    const adjusted = async (...path: string[]) =>
      (await query(`SELECT logical_type FROM parquet_schema(${file('mixed', ...path)}) WHERE name = 'ts'`))[0]?.[0];
    expect(await adjusted('events', 'dt=2024-03-14', 'app-gz.parquet')).toMatch(/isAdjustedToUTC=0/);
    expect(await adjusted('events', 'dt=2024-03-15', 'late.parquet')).toMatch(/isAdjustedToUTC=1/);
  });

  it('leaves out of a sparse file each optional column none of its rows has', async () => {
    const columns = async (...path: string[]) =>
      (await query(`SELECT name FROM parquet_schema(${file('parquet-sparse', 'events', ...path)}) WHERE num_children IS NULL`)).map(
        (row) => row[0],
      );
    expect(await columns('dt=2024-03-14', 'app.parquet')).toEqual([
      'event_id',
      'source',
      'user_id',
      'event_name',
      'ts',
      'properties',
      'value',
    ]);
    expect(await columns('dt=2024-03-15', 'late.parquet')).toEqual(['event_id', 'source', 'user_id', 'event_name', 'ts', 'value']);
    expect(
      await query(`SELECT event_id, value FROM read_parquet(${file('parquet-sparse', 'events', 'dt=2024-03-15', 'late.parquet')})`),
    ).toEqual([['c', 2]]);
  });
});
