import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duckdbDialect as d } from '../../shared/compiler/duckdb-dialect.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { duckdbLakeRelations } from '../../shared/local/duckdb-lake.ts';
import { findLakeFiles } from '../../shared/local/lake-files.ts';

/** A valid event line with the given id, extra fields written as raw JSON text. */
const event = (id: string, extra = '') =>
  `{"event_id":${JSON.stringify(id)},"source":"product","user_id":"u_${id}","event_name":"e","ts":"2026-05-20T12:00:00Z"${extra}}`;

/** Lines that are not one strict JSON object: each must be a row of NULLs (an invalid row). */
const NOT_STRICT = [
  "{'event_id':'sq','source':'p','user_id':'u','event_name':'e','ts':'2026-05-20T12:00:00Z'}",
  '{event_id:"uk","source":"p","user_id":"u","event_name":"e","ts":"2026-05-20T12:00:00Z"}',
  event('nan', ',"value":NaN'),
  event('inf', ',"value":-Infinity'),
  event('trailing_comma', ','),
  event('trailing_comma_array', ',"properties":{"a":[1,2,]}'),
  event('comment', '/* c */'),
  `${event('garbage')} x`,
  `${event('two')}${event('values')}`,
  '[1,2]',
  '"a string"',
  '\\N',
];

const PROPERTIES = ['x', 'y', 'z', 'w', 'n', 'a', 'k', 'f', 's'];

const LINES = [
  // Number text (SPEC section 4): digits as written, -0 included; other numbers by their double.
  event('numbers', ',"properties":{"x":-0,"y":"-0","z":0,"w":5e-0,"n":{"q":-0},"a":[-0,1],"f":1.50,"s":"x:-0,"}'),
  '{"event_id":1.50,"source":"p","user_id":-0,"event_name":true,"ts":"2026-05-20T12:00:00Z","properties":{"x":-0.0,"z":-0e0}}',
  '{"event_id":-0,"source":"p","user_id":12345678901234567890,"event_name":"e","ts":"2026-05-20T12:00:00Z"}',
  // Duplicate keys: the first counts, at the top and inside properties.
  '{"event_id":"dup","event_id":"dup2","source":"p","user_id":"u","event_name":"e","ts":"2026-05-20T12:00:00Z","properties":{"k":1,"k":2},"properties":{"k":3}}',
  // value: a JSON number or nothing.
  event('value_text', ',"value":"12"'),
  event('value_exp', ',"value":1e1'),
  event('value_minus_zero', ',"value":-0'),
  event('value_bool', ',"value":true'),
  // properties that is not an object.
  event('props_string', ',"properties":"{\\"x\\":1}"'),
  event('props_array', ',"properties":[{"x":1}]'),
  // Words that look lenient inside strings are data; white space around the object is allowed.
  `  ${event('info', ',"properties":{"s":"NaN, inf, [1,]"}')}\t`,
  // Offsets up to +-18:00 (Java's ISO parser); minutes up to 59.
  event('offset_18').replace('Z"', '+18:00"'),
  event('offset_18_01').replace('Z"', '+18:01"'),
  event('offset_minus_19').replace('Z"', '-19:00"'),
  event('offset_minutes_60').replace('Z"', '+05:60"'),
  // Blank lines are no rows.
  '',
  '   ',
  '\t\r',
  ...NOT_STRICT,
];

let duckdb: DuckDBConnection;
let lake: string;
let rows: Record<string, unknown>[];

beforeAll(async () => {
  lake = await mkdtemp(join(tmpdir(), 'jsonl-reading-'));
  await mkdir(join(lake, 'events', 'dt=2026-05-20'), { recursive: true });
  await writeFile(join(lake, 'events', 'dt=2026-05-20', 'lines.jsonl'), `${LINES.join('\n')}\n`);
  duckdb = await openDuckDb({ threads: 1 });
  const events = duckdbLakeRelations(await findLakeFiles(lake)).events;
  const props = PROPERTIES.map((p, i) => `${d.scalarText(d.propertyJson(i))} AS p_${p}, ${d.present(d.propertyJson(i))} AS x_${p}`);
  const sql =
    `SELECT event_id, source, user_id, event_name, CAST(ts AS VARCHAR) AS ts, value, ${props.join(', ')} ` +
    `FROM (SELECT *, ${d.extractProperties('properties', PROPERTIES).join(', ')} FROM ${events} AS e) AS r`;
  rows = (await duckdb.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
});

afterAll(async () => {
  duckdb?.closeSync();
  await rm(lake, { recursive: true, force: true });
});

const row = (userId: string) => {
  const found = rows.filter((r) => r.user_id === userId);
  expect(found).toHaveLength(1);
  return found[0] as Record<string, unknown>;
};

describe('a JSON Lines line read by DuckDB', () => {
  it('gives integers their digits as written, -0 included, and other numbers their double text', () => {
    const r = row('u_numbers');
    expect([r.p_x, r.p_y, r.p_z, r.p_w, r.p_f, r.p_s]).toEqual(['-0', '-0', '0', '5.0', '1.5', 'x:-0,']);
    // Nested objects and arrays are no text but are present.
    expect([r.p_n, r.p_a, r.x_n, r.x_a]).toEqual([null, null, true, true]);
    const other = row('-0');
    expect([other.event_id, other.event_name, other.p_x, other.p_z]).toEqual(['1.5', 'true', '-0.0', '-0.0']);
    expect(row('12345678901234567890').event_id).toBe('-0');
  });

  it('takes the first of duplicate keys', () => {
    const r = row('u');
    expect([r.event_id, r.p_k]).toEqual(['dup', '1']);
  });

  it('reads value only as a JSON number', () => {
    expect(row('u_value_text').value).toBeNull();
    expect(row('u_value_exp').value).toBe(10);
    expect(Object.is(row('u_value_minus_zero').value, -0)).toBe(true);
    expect(row('u_value_bool').value).toBeNull();
  });

  it('gives no properties when properties is not an object', () => {
    for (const id of ['u_props_string', 'u_props_array']) expect(row(id).x_x).toBe(false);
  });

  it('keeps words that only look lenient inside strings, and white space around the object', () => {
    expect(row('u_info').p_s).toBe('NaN, inf, [1,]');
  });

  it('parses offsets up to 18:00 and no further', () => {
    expect(row('u_offset_18').ts).toBe('2026-05-19 18:00:00');
    for (const id of ['u_offset_18_01', 'u_offset_minus_19', 'u_offset_minutes_60']) expect(row(id).ts).toBeNull();
  });

  it('makes every line that is not one strict JSON object a row of NULLs, and blank lines no rows', () => {
    const invalid = rows.filter((r) => r.event_id === null && r.source === null && r.user_id === null && r.ts === null);
    expect(invalid).toHaveLength(NOT_STRICT.length);
    expect(rows).toHaveLength(LINES.length - 3);
  });
});
