import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doubleLiteral, identifier, integerLiteral, stringLiteral, UnsafeSqlValueError } from '../../shared/compiler/sql-text.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { BACKSLASH_STAND_IN, INJECTION, lexSql, parseTrino, selectedLiteral } from './support.ts';

/** Texts that must reach both engines unchanged: [what, the JS string, the literal expected]. */
const TEXTS: readonly (readonly [string, string, string])[] = [
  ['plain text', 'enterprise', "'enterprise'"],
  ['empty text', '', "''"],
  ['a single quote', "it's", "'it''s'"],
  ['two quotes in a row', "''", "''''''"],
  ['a quote at each end', "'quoted'", "'''quoted'''"],
  ['a Windows path with backslashes', 'C:\\temp\\new', "'C:\\temp\\new'"],
  ['a lone backslash', '\\', "'\\'"],
  ['a backslash before a quote', "\\'", "'\\'''"],
  ['a trailing backslash', 'end\\', "'end\\'"],
  ['LIKE wildcards', '50%_off', "'50%_off'"],
  ['a newline', 'line1\nline2', "'line1\nline2'"],
  ['a carriage return', 'a\rb', "'a\rb'"],
  ['a tab', 'a\tb', "'a\tb'"],
  ['accents and a BMP symbol', 'naïve café ☕', "'naïve café ☕'"],
  ['CJK text', '東京', "'東京'"],
  ['an emoji outside the BMP', 'party 🎉 time', "'party 🎉 time'"],
  ['the injection text of SPEC section 4', INJECTION, "'x''; DROP TABLE events; --'"],
  ['a comment opener', '/* not a comment', "'/* not a comment'"],
  ['double quotes', 'say "hi"', '\'say "hi"\''],
  ['a dollar-quoted string opener', '$$ x $$', "'$$ x $$'"],
];

/** Doubles and their literal: exponent form, the shortest digits that read back. */
const DOUBLES: readonly (readonly [number, string])[] = [
  [5, '5E0'],
  [4.5, '4.5E0'],
  [-0.5, '-5E-1'],
  [1e-4, '1E-4'],
  [1e15, '1E15'],
  [0.1 + 0.2, '3.0000000000000004E-1'],
  [0, '0E0'],
  [123456789.125, '1.23456789125E8'],
  [Number.MAX_SAFE_INTEGER, '9.007199254740991E15'],
];

describe('stringLiteral', () => {
  it.each(TEXTS)('quotes %s by doubling single quotes only', (_what, value, literal) => {
    expect(stringLiteral(value)).toBe(literal);
  });

  it('refuses NUL, which neither engine can store', () => {
    expect(() => stringLiteral('a\u0000b')).toThrow(UnsafeSqlValueError);
    expect(() => stringLiteral('\u0000')).toThrow(/NUL/);
  });

  it('refuses a lone surrogate, which has no UTF-8 form and would reach the engine as U+FFFD', () => {
    expect(() => stringLiteral('a\uD800b')).toThrow(UnsafeSqlValueError);
    expect(() => stringLiteral('\uDE00')).toThrow(UnsafeSqlValueError);
    // A proper pair is one code point and stays.
    expect(stringLiteral('\uD83C\uDF89')).toBe("'🎉'");
  });
});

describe('doubleLiteral', () => {
  it.each(DOUBLES)('writes %d as %s', (value, literal) => {
    expect(doubleLiteral(value)).toBe(literal);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])('refuses the non-finite %d', (value) => {
    expect(() => doubleLiteral(value)).toThrow(UnsafeSqlValueError);
  });
});

describe('integerLiteral', () => {
  it('writes safe integers as digits', () => {
    expect([0, 42, -7].map(integerLiteral)).toEqual(['0', '42', '-7']);
  });

  it.each([1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY])('refuses %d', (value) => {
    expect(() => integerLiteral(value)).toThrow(UnsafeSqlValueError);
  });
});

describe('identifier', () => {
  it.each(['c_power_users', '_hidden', 'a1', 'x'.repeat(128)])('double-quotes the snake_case name %s', (name) => {
    expect(identifier(name)).toBe(`"${name}"`);
  });

  it.each([
    '',
    'Power',
    'camelCase',
    'kebab-case',
    'with space',
    '1starts_with_digit',
    'dotted.name',
    'c_ümlaut',
    'x"; DROP TABLE events; --',
    'x'.repeat(129),
    'trailing\n',
  ])('refuses %j', (name) => {
    expect(() => identifier(name)).toThrow(UnsafeSqlValueError);
  });
});

describe('literals in DuckDB', () => {
  let duckdb: DuckDBConnection;
  beforeAll(async () => {
    duckdb = await openDuckDb({ threads: 1 });
  });
  afterAll(() => {
    duckdb?.closeSync();
  });

  const selectOne = async (sql: string) => {
    const reader = await duckdb.runAndReadAll(sql);
    const rows = reader.getRows();
    expect(rows).toHaveLength(1);
    return rows[0] as unknown[];
  };

  it.each(TEXTS)('reads back %s exactly', async (_what, value) => {
    // WHEN the literal is selected THEN the engine returns the original string, one column, one row
    const [v, length] = await selectOne(`SELECT ${stringLiteral(value)} AS v, length(${stringLiteral(value)}) AS n`);
    expect(v).toBe(value);
    expect(Number(length)).toBe([...value].length);
  });

  it.each(DOUBLES)('reads back %d as that double', async (value) => {
    const [v, type] = await selectOne(`SELECT ${doubleLiteral(value)} AS v, typeof(${doubleLiteral(value)}) AS t`);
    expect(type).toBe('DOUBLE');
    expect(v).toBe(value);
  });
});

describe('literals in Athena (Trino), parse-checked', () => {
  // Trino's lexer: STRING = ' ( ~' | '' )* '. node-sql-parser reads backslashes as escapes, which
  // Trino does not, so backslashes stand in as U+E000 for the parse (see PARSER_GAPS in support.ts).
  it.each(TEXTS)('reads back %s as one string token', (_what, value) => {
    const sql = `SELECT ${stringLiteral(value)} AS v`;
    // By Trino's lexical rule: exactly one literal, whose value is the original.
    const literals = lexSql(sql).filter((p) => p.kind === 'literal');
    expect(literals.map((p) => p.value)).toEqual([value]);
    // By node-sql-parser's trino grammar: one column that is one string literal (quotes kept doubled in its AST).
    const read = selectedLiteral(parseTrino(sql)) as string;
    expect(read.replaceAll("''", "'").replaceAll(BACKSLASH_STAND_IN, '\\')).toBe(value);
  });

  it('detects a literal that was not quoted', () => {
    // GIVEN the injection text wrapped in quotes without doubling its quote
    const naive = `SELECT '${INJECTION}' AS v`;
    // THEN it is no longer one token: the literal ends early and a second statement follows
    expect(
      lexSql(naive)
        .filter((p) => p.kind === 'literal')
        .map((p) => p.value),
    ).toEqual(['x']);
    const ast = parseTrino(naive);
    expect(Array.isArray(ast) ? ast.length : 1).toBe(2);
  });

  it.each(DOUBLES)('reads back %d as one numeric token', (value) => {
    const ast = parseTrino(`SELECT ${doubleLiteral(value)} AS v`) as { columns: { expr: { value: unknown } }[] };
    expect(Number(ast.columns[0]?.expr.value)).toBe(value);
  });
});
