import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompiledRefresh } from '../../shared/compiler/compile-refresh.ts';
import { duckdbDialect } from '../../shared/compiler/duckdb-dialect.ts';
import { stringLiteral } from '../../shared/compiler/sql-text.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { duckdbLakeRelations } from '../../shared/local/duckdb-lake.ts';
import { findLakeFiles } from '../../shared/local/lake-files.ts';
import { AS_OF, catalog, compile, INJECTION } from './support.ts';

/** One JSONL event of the tiny lake; everything happens the day before the as-of. */
interface LakeEvent {
  readonly person: string;
  readonly name: string;
  readonly properties?: Readonly<Record<string, unknown>>;
  /** The properties object as raw JSON text, for numbers JSON.stringify cannot write (`4.50`, `1e1`). */
  readonly rawProperties?: string;
}

const EVENTS: readonly LakeEvent[] = [
  // The injection text of SPEC section 4, and texts that differ from it by a little.
  { person: 'inj_exact', name: 'note_added', properties: { note: INJECTION } },
  { person: 'inj_doubled_quote', name: 'note_added', properties: { note: "x''; DROP TABLE events; --" } },
  { person: 'inj_prefix', name: 'note_added', properties: { note: "x'" } },
  { person: 'inj_other_case', name: 'note_added', properties: { note: "X'; drop table events; --" } },
  { person: 'inj_trailing_space', name: 'note_added', properties: { note: `${INJECTION} ` } },
  // The injection text as an event name.
  { person: 'evname_exact', name: INJECTION },
  { person: 'evname_prefix', name: "x'" },
  // Backslashes: the text C:\temp\new, the same with doubled backslashes, and with a real tab and newline.
  { person: 'path_exact', name: 'file_opened', properties: { path: 'C:\\temp\\new' } },
  { person: 'path_doubled', name: 'file_opened', properties: { path: 'C:\\\\temp\\\\new' } },
  { person: 'path_escapes', name: 'file_opened', properties: { path: 'C:\temp\new' } },
  { person: 'slash_exact', name: 'file_opened', properties: { path: '\\' } },
  { person: 'slash_doubled', name: 'file_opened', properties: { path: '\\\\' } },
  // A dot is part of the key, never a path.
  { person: 'utm_flat', name: 'visit', properties: { 'utm.source': 'google' } },
  { person: 'utm_nested', name: 'visit', properties: { utm: { source: 'google' } } },
  { person: 'utm_both', name: 'visit', properties: { utm: { source: 'bing' }, 'utm.source': 'google' } },
  { person: 'utm_nested_only_other', name: 'visit', properties: { utm: { source: 'bing' } } },
  // LIKE wildcards are data.
  { person: 'promo_exact', name: 'checkout', properties: { promo: '50%_off' } },
  { person: 'promo_like', name: 'checkout', properties: { promo: '50 and a bit%off' } },
  { person: 'promo_underscore', name: 'checkout', properties: { promo: '50%Xoff' } },
  // Unicode, inside and outside the BMP.
  { person: 'city_accents', name: 'moved', properties: { city: 'naïve café ☕' } },
  { person: 'city_cjk', name: 'moved', properties: { city: '東京' } },
  { person: 'city_emoji', name: 'moved', properties: { city: '🎉 party' } },
  { person: 'city_decomposed', name: 'moved', properties: { city: 'nai\u0308ve cafe\u0301 ☕' } },
  { person: 'city_other', name: 'moved', properties: { city: 'Berlin' } },
  // Numeric text (SPEC section 4): "12" is numeric; " 5", "5\n" and "+5" are not.
  { person: 'rows_text_12', name: 'counted', properties: { rows: '12' } },
  { person: 'rows_number_7', name: 'counted', properties: { rows: 7 } },
  { person: 'rows_space', name: 'counted', properties: { rows: ' 5' } },
  { person: 'rows_newline', name: 'counted', properties: { rows: '5\n' } },
  { person: 'rows_plus', name: 'counted', properties: { rows: '+5' } },
  // The text of a number: 4.50 -> 4.5, 1e1 -> 10.0, 42 -> 42; a string keeps its characters.
  { person: 'price_450', name: 'priced', rawProperties: '{"price": 4.50}' },
  { person: 'price_text_450', name: 'priced', properties: { price: '4.50' } },
  { person: 'price_1e1', name: 'priced', rawProperties: '{"price": 1e1}' },
  { person: 'price_42', name: 'priced', rawProperties: '{"price": 42}' },
];

const RULES = {
  injection_note: `event: note_added\nwhere: {note: "${INJECTION}"}`,
  injection_event: `event: "${INJECTION}"`,
  backslash_path: "event: file_opened\nwhere: {path: 'C:\\temp\\new'}",
  lone_backslash: "event: file_opened\nwhere: {path: '\\'}",
  utm_google: 'event: visit\nwhere: {utm.source: google}',
  utm_present: 'event: visit\nwhere: {utm.source: {exists: true}}',
  utm_absent: 'event: visit\nwhere: {utm.source: {exists: false}}',
  utm_object: 'event: visit\nwhere: {utm: {exists: true}}',
  promo_code: 'event: checkout\nwhere: {promo: "50%_off"}',
  far_cities: 'event: moved\nwhere: {city: {in: ["naïve café ☕", "東京", "🎉 party"]}}',
  five_rows_or_more: 'event: counted\nwhere: {rows: {gte: 5}}',
  price_four_and_a_half: 'event: priced\nwhere: {price: "4.5"}',
  price_ten: 'event: priced\nwhere: {price: {in: ["10.0", "42"]}}',
} as const;

const EXPECTED: Record<keyof typeof RULES, string[]> = {
  injection_note: ['inj_exact'],
  injection_event: ['evname_exact'],
  backslash_path: ['path_exact'],
  lone_backslash: ['slash_exact'],
  utm_google: ['utm_both', 'utm_flat'],
  utm_present: ['utm_both', 'utm_flat'],
  utm_absent: ['utm_nested', 'utm_nested_only_other'],
  utm_object: ['utm_both', 'utm_nested', 'utm_nested_only_other'],
  promo_code: ['promo_exact'],
  far_cities: ['city_accents', 'city_cjk', 'city_emoji'],
  five_rows_or_more: ['rows_number_7', 'rows_text_12'],
  price_four_and_a_half: ['price_450'],
  price_ten: ['price_1e1', 'price_42'],
};

describe('the DuckDB query over a tiny JSONL lake', () => {
  let lake: string;
  let duckdb: DuckDBConnection;
  let compiled: CompiledRefresh;
  let members: Map<string, string[]>;

  beforeAll(async () => {
    // GIVEN a lake folder with one day of JSONL events, the day before the as-of
    lake = await mkdtemp(join(tmpdir(), 'cohorts-compiler-'));
    const day = join(lake, 'events', 'dt=2024-06-14');
    await mkdir(day, { recursive: true });
    const lines = EVENTS.map((e, i) => {
      const line = JSON.stringify({
        event_id: `ev-${String(i).padStart(3, '0')}`,
        source: 'product',
        user_id: e.person,
        event_name: e.name,
        ts: `2024-06-14T10:${String(i % 60).padStart(2, '0')}:00Z`,
        ...(e.properties ? { properties: e.properties } : {}),
      });
      return e.rawProperties ? `${line.slice(0, -1)},"properties":${e.rawProperties}}` : line;
    });
    await writeFile(join(day, 'part-0.jsonl'), `${lines.join('\n')}\n`);

    // WHEN every cohort is compiled into one query and run
    duckdb = await openDuckDb({ threads: 1 });
    compiled = compile(catalog(RULES), duckdbDialect, duckdbLakeRelations(await findLakeFiles(lake)), AS_OF);
    const reader = await duckdb.runAndReadAll(compiled.sql);
    const rows = reader.getRowObjectsJS();
    members = new Map(
      [...compiled.columns].map(([id, column]) => [
        id,
        rows
          .filter((row) => row[column] === true)
          .map((row) => String(row.person_id))
          .sort(),
      ]),
    );
  });

  afterAll(async () => {
    duckdb?.closeSync();
    if (lake) await rm(lake, { recursive: true, force: true });
  });

  it('sees every person of the lake in the population', async () => {
    const reader = await duckdb.runAndReadAll(`SELECT count(*) FROM (${compiled.sql})`);
    expect(Number(reader.getRows()[0]?.[0])).toBe(new Set(EVENTS.map((e) => e.person)).size);
  });

  it.each(Object.keys(RULES) as (keyof typeof RULES)[])('computes exactly the members of %s', (id) => {
    expect(members.get(id)).toEqual(EXPECTED[id]);
  });

  it('matches the injection text as data: exactly one event, none of its near misses', async () => {
    expect(members.get('injection_note')).toEqual(['inj_exact']);
    // The near misses are in the population, so they were evaluated and not matched.
    const reader = await duckdb.runAndReadAll(
      `SELECT count(*) FROM (${compiled.sql}) AS r WHERE person_id IN (${['inj_doubled_quote', 'inj_prefix', 'inj_other_case', 'inj_trailing_space'].map(stringLiteral).join(', ')})`,
    );
    expect(Number(reader.getRows()[0]?.[0])).toBe(4);
  });

  it('extracts every JSON property in one call per event row, each path once', () => {
    const calls = compiled.sql.match(/json_extract\(e\.properties, \[/g) ?? [];
    expect(calls).toHaveLength(1);
    const list = /json_extract\(e\.properties, \[([^\]]*)\]\)/.exec(compiled.sql)?.[1] ?? '';
    const paths = list.split(', ');
    expect(paths).toEqual(compiled.properties.map((p) => stringLiteral(`$.properties."${p}"`)));
    expect(new Set(paths).size).toBe(paths.length);
    expect([...compiled.properties].sort()).toEqual(['city', 'note', 'path', 'price', 'promo', 'rows', 'utm', 'utm.source']);
  });
});
