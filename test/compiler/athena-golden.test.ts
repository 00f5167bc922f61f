import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { athenaDialect } from '../../shared/compiler/athena-dialect.ts';
import { NUMERIC_TEXT } from '../../shared/compiler/event-rows.ts';
import {
  AS_OF,
  BACKSLASH_STAND_IN,
  calledFunctions,
  catalog,
  codeOnly,
  compile,
  cteNames,
  GOLDEN_CASES,
  LAKE,
  literalValues,
  matchingParen,
  PARSER_GAPS,
  parseTrino,
  rewriteForParser,
  selectedLiteral,
  TRINO_FUNCTIONS,
} from './support.ts';

/**
 * Golden Athena (Trino) SQL for every construct of the language. Athena cannot run here, so each
 * golden file was read by hand against SPEC.md, and every one is parse-checked with
 * node-sql-parser's trino grammar. `UPDATE_GOLDEN=1 npx vitest run test/compiler` rewrites the
 * files; review the diff before committing it.
 */
const GOLDEN_DIR = join(import.meta.dirname, 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

const goldenPath = (name: string) => join(GOLDEN_DIR, `${name}.athena.sql`);

describe.each(GOLDEN_CASES)('the Athena query for $name', ({ name, about, rules, metrics }) => {
  const compiled = compile(catalog(rules), athenaDialect, LAKE, AS_OF, metrics);
  const sql = `${compiled.sql}\n`;

  it(`matches its golden file (${about})`, () => {
    const file = goldenPath(name);
    if (UPDATE) {
      mkdirSync(GOLDEN_DIR, { recursive: true });
      writeFileSync(file, sql);
    }
    // A missing golden file fails: run with UPDATE_GOLDEN=1 once, then read the file.
    expect(existsSync(file), `missing ${file}: run UPDATE_GOLDEN=1 npx vitest run test/compiler and review it`).toBe(true);
    expect(sql).toBe(readFileSync(file, 'utf8'));
  });

  it('parses with the trino grammar of node-sql-parser (after the documented rewrites only)', () => {
    // The stand-in for backslashes must not occur in the query, or the rewrite could hide something.
    expect(sql).not.toContain(BACKSLASH_STAND_IN);
    expect(() => parseTrino(sql)).not.toThrow();
  });

  it('calls only functions that exist in Trino', () => {
    const unknown = calledFunctions(sql).filter((f) => !TRINO_FUNCTIONS.has(f));
    expect(unknown).toEqual([]);
  });

  it('uses no DuckDB-only syntax', () => {
    const code = codeOnly(sql);
    for (const duckdbOnly of [
      /\bTIMESTAMPTZ\b/,
      /\bregexp_full_match\b/,
      /\barg_max\b/,
      /\bjson_extract_string\b/,
      /\bleft\(/,
      /::/,
      /\{'/,
      /\]\[/,
    ]) {
      expect(code).not.toMatch(duckdbOnly);
    }
    expect(code).not.toMatch(/\[\d+\]/);
  });

  it('writes every instant as a UTC timestamp literal with milliseconds', () => {
    const stamps = [...sql.matchAll(/TIMESTAMP '([^']*)'/g)].map((m) => m[1]);
    expect(stamps.length).toBeGreaterThan(0);
    for (const stamp of stamps) expect(stamp).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} UTC$/);
    // Nothing else looks like a timestamp: no TIMESTAMP keyword without a literal.
    expect((codeOnly(sql).match(/\bTIMESTAMP\b/g) ?? []).length).toBe(stamps.length);
  });

  it('anchors every regular expression at both ends of the text, with \\A and \\z', () => {
    const patterns = [...sql.matchAll(/regexp_like\([^,]+, '([^']*)'\)/g)].map((m) => m[1] as string);
    for (const pattern of patterns) expect(pattern).toMatch(/^\\A\(\?:.*\)\\z$/);
  });

  it('reads every property through a bracketed JSON path of the properties document, twice per property', () => {
    // json_extract for its JSON, json_extract_scalar for an integer's token as written.
    const paths = literalValues(sql).filter((v) => v.startsWith('$['));
    expect(paths).toEqual(compiled.properties.flatMap((p) => [`$["properties"]["${p}"]`, `$["properties"]["${p}"]`]));
  });

  it('names its CTEs in the order of the one-pass plan', () => {
    const names = cteNames(sql);
    const scan = ['identity_map', 'behaviour_valid', 'behaviour_deduped', 'events', 'typed_events', 'valued_events', 'scored_events'];
    const population = compiled.separatePopulationScan ? ['population_valid', 'population'] : [];
    const sequences = names.filter((name) => name.startsWith('sequence_'));
    const sequenced = sequences.length === 0 ? [] : [...sequences, 'per_person_sequenced'];
    // Uploaded lists are joined once, after every aggregate (and only when a rule reads one).
    const lists = sql.includes('list_entries AS (') ? ['list_entries', 'listed', 'per_person_listed'] : [];
    expect(names).toEqual([...scan, ...population, 'per_person', 'per_person_valued', 'per_person_scored', ...sequenced, ...lists]);
  });
});

describe('the golden files', () => {
  it('exist for every case and for nothing else', () => {
    if (UPDATE) return;
    const expected = GOLDEN_CASES.map((c) => `${c.name}.athena.sql`).sort();
    const present = existsSync(GOLDEN_DIR)
      ? readdirSync(GOLDEN_DIR)
          .filter((f) => f.endsWith('.athena.sql'))
          .sort()
      : [];
    expect(present).toEqual(expected);
  });
});

describe('the Athena partition and scan plan', () => {
  it('prunes dt to one day of slack around the widest window when every leaf has one', () => {
    // GIVEN leaves windowed within 7d and between [60d, 30d], and a 6w velocity (which needs 12w)
    const compiled = compile(catalog(GOLDEN_CASES.find((c) => c.name === 'all_windowed')?.rules ?? {}), athenaDialect);
    // THEN the scan starts one day before T - 12w and ends one day after T, with a population scan
    expect(compiled.partitions).toEqual({ from: '2024-03-22', to: '2024-06-16' });
    expect(compiled.separatePopulationScan).toBe(true);
    expect(compiled.sql).toContain("WHERE dt >= '2024-03-22' AND dt <= '2024-06-16'");
    expect(compiled.sql).toContain("AND ts >= TIMESTAMP '2024-03-23 12:00:00.000 UTC'");
  });

  it('reads all history without a dt lower bound when one leaf has no window', () => {
    const compiled = compile(catalog(GOLDEN_CASES.find((c) => c.name === 'mixed_windows')?.rules ?? {}), athenaDialect);
    expect(compiled.partitions).toEqual({ to: '2024-06-16' });
    expect(compiled.separatePopulationScan).toBe(false);
    expect(compiled.sql).not.toContain('dt >=');
    expect(compiled.sql).not.toContain('population');
  });
});

describe('the KPI metrics in the Athena query', () => {
  const metricsCase = GOLDEN_CASES.find((c) => c.name === 'metrics') as (typeof GOLDEN_CASES)[number];
  const compiled = compile(catalog(metricsCase.rules), athenaDialect, LAKE, AS_OF, metricsCase.metrics);

  it('are two more columns of the one query, after the cohorts', () => {
    expect(compiled.metrics).toEqual({ activated: 'm_activated', value: 'm_value' });
    expect(compiled.sql.slice(compiled.sql.lastIndexOf('\nSELECT person_id,'))).toMatch(
      /AS "c_weekly_logins",\n {2}a\d+ > 0 AS "m_activated",\n {2}coalesce\(a\d+, 0\) AS "m_value"\nFROM per_person_scored$/,
    );
    expect(compiled.sql.match(/FROM cohorts\.events AS lake_events/g)).toHaveLength(2); // the behaviour scan and the population scan
  });

  it('widen the dt pruning to the longest metric window (value over 30 days) with one day of slack', () => {
    expect(compiled.partitions).toEqual({ from: '2024-05-15', to: '2024-06-16' });
    expect(compiled.sql).toContain("AND ts >= TIMESTAMP '2024-05-16 12:00:00.000 UTC'");
  });

  it("read the activation filter's property only for the activation events of its source and window", () => {
    expect(compiled.properties).toEqual(['plan']);
    expect(compiled.sql).toContain(
      "CASE WHEN (e.event_name IN ('feature_used', 'export_created') AND e.source = 'product' AND e.ts >= TIMESTAMP '2024-06-01 12:00:00.000 UTC') THEN coalesce(nullif(json_format(",
    );
  });
});

describe('the parse check', () => {
  it('rejects an unbalanced parenthesis, a misspelt keyword and a broken FILTER clause', () => {
    // GIVEN a golden query that parses
    const sql = compile(catalog(GOLDEN_CASES.find((c) => c.name === 'latest')?.rules ?? {}), athenaDialect).sql;
    expect(() => parseTrino(sql)).not.toThrow();
    // WHEN it is damaged in the ways a hand edit of the dialect could damage it THEN parsing fails
    const lastClose = sql.lastIndexOf(')');
    for (const broken of [
      sql.slice(0, lastClose) + sql.slice(lastClose + 1),
      sql.replace('GROUP BY', 'GROUP'),
      sql.replace('FILTER (WHERE', 'FILTER (WHER'),
      sql.replace('max_by(e.p', 'max_by(e.p,'),
      sql.replace('\'$["properties"]["plan"]\'', '\'$["properties"]["plan"]'),
      sql.replace('SELECT person_id,', 'SELEC person_id,'),
      sql.replace(' THEN ', ' '),
    ]) {
      expect(broken).not.toBe(sql);
      expect(() => parseTrino(broken)).toThrow();
    }
  });

  it('catches a misspelt function name, which is not a syntax error', () => {
    const sql = compile(catalog({ probe: 'event: login\nwhere: {rows: {gt: 1}}' }), athenaDialect).sql;
    expect(calledFunctions(sql.replace('regexp_like(', 'regexp_likes('))).toContain('regexp_likes');
  });

  it.each(PARSER_GAPS)('rewrites only what node-sql-parser cannot read: $construct', (gap) => {
    // GIVEN valid Trino that node-sql-parser 5.4.0 rejects or misreads (drop the rewrite once it reads it)
    expect(gap.parserFails()).toBe(true);
    // THEN the rewritten text parses
    expect(() => parseTrino(gap.trino)).not.toThrow();
  });

  it('changes nothing else in the query: undoing the rewrites gives it back', () => {
    const sql =
      compile(catalog(GOLDEN_CASES.find((c) => c.name === 'hostile_values')?.rules ?? {}), athenaDialect).sql +
      compile(catalog(GOLDEN_CASES.find((c) => c.name === 'latest')?.rules ?? {}), athenaDialect).sql;
    const rewritten = rewriteForParser(sql);
    expect(rewritten).not.toBe(sql);
    expect(rewritten.split('max(max_by(').length).toBe(sql.split('max_by(').length);
    let undone = rewritten.replaceAll(BACKSLASH_STAND_IN, '\\');
    for (let at = undone.indexOf('max(max_by('); at !== -1; at = undone.indexOf('max(max_by(')) {
      const close = matchingParen(undone, at + 'max'.length);
      undone = undone.slice(0, at) + undone.slice(at + 'max('.length, close) + undone.slice(close + 1);
    }
    expect(undone).toBe(sql);
  });

  it('reads a literal back as one string token', () => {
    expect(selectedLiteral(parseTrino("SELECT 'it''s' AS v"))).toBe("it''s");
  });
});

describe('the numeric-text pattern of the Athena dialect', () => {
  // The pattern as Trino reads it (\A and \z), checked with a JS regex of the same meaning.
  const anchored = new RegExp(`^(?:${NUMERIC_TEXT})$`);
  const athenaPattern = athenaDialect.fullMatch('x', NUMERIC_TEXT);

  it('is the JSON number grammar anchored at the very ends', () => {
    expect(athenaPattern).toBe(`regexp_like(x, '\\A(?:${NUMERIC_TEXT})\\z')`);
  });

  it.each(['12', '-7', '0', '4.50', '1e1', '2.5E+3', '-0.5e-2'])('accepts %j', (text) => {
    expect(anchored.test(text)).toBe(true);
  });

  it.each([' 5', '5 ', '5\n', '+5', '.5', '007', 'NaN', '1.', '1e', '', 'Infinity'])('rejects %j', (text) => {
    expect(anchored.test(text)).toBe(false);
  });
});
