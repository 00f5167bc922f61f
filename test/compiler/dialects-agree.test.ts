import { describe, expect, it } from 'vitest';
import type { CohortDefinition, Condition, EventFilter, PropertyOps } from '../../shared/language/ast.ts';
import {
  AS_OF,
  catalog,
  codeOnly,
  compile,
  cteBody,
  cteNames,
  DIALECTS,
  GOLDEN_CASES,
  INJECTION,
  LAKE,
  lexSql,
  literalValues,
} from './support.ts';

/**
 * The DuckDB and Athena queries of the same definitions must mean the same thing (SPEC: the two
 * engines agree to the last member). Only the dialect's functions differ; everything else is
 * shared text, so after writing the dialect-specific spellings one way the queries must be equal.
 */

/** A value's text read as a timestamp (date operators), in one spelling for both dialects. */
function parsedTexts(sql: string): string {
  let out = sql;
  for (const text of new Set([...sql.matchAll(/\b(?:e\.p\d+_t|a\d+_t)\b/g)].map((m) => m[0]))) {
    for (const d of [DIALECTS.athena, DIALECTS.duckdb]) out = out.replaceAll(d.parseTimestamp(text), `PARSED_TS(${text})`);
  }
  return out;
}

/** One spelling for what the dialects write differently (timestamps, parsed texts and the latest- and earliest-value aggregates). */
function normalized(sql: string): string {
  return parsedTexts(sql)
    .replace(/TIMESTAMP '([^']*) UTC'/g, "INSTANT '$1'")
    .replace(/TIMESTAMP '([^']*)'/g, "INSTANT '$1'")
    .replace(/max_by\((e\.p\d+_j), ROW\(e\.ts, e\.event_id\)\)/g, 'LATEST($1)')
    .replace(/arg_max\((e\.p\d+_j), \{'ts': e\.ts, 'event_id': e\.event_id\}\)/g, 'LATEST($1)')
    .replace(/min_by\((e\.p\d+_j), ROW\(e\.ts, e\.event_id\)\)/g, 'EARLIEST($1)')
    .replace(/arg_min\((e\.p\d+_j), \{'ts': e\.ts, 'event_id': e\.event_id\}\)/g, 'EARLIEST($1)');
}

/** The final SELECT of a compiled query: one boolean per cohort. */
const finalSelect = (sql: string) => sql.slice(sql.lastIndexOf('\nSELECT person_id,'));

/** The aggregate aliases of the per-person step, in order. */
const aggregateAliases = (sql: string) => [...cteBody(sql, 'per_person').matchAll(/ AS (a\d+)\b/g)].map((m) => m[1]);

/** Every text from a definition that reaches the SQL: event names, sources, property names and text operands. */
function userTexts(condition: Condition): { values: string[]; properties: string[] } {
  const values: string[] = [];
  const properties: string[] = [];
  const filter = (f: EventFilter) => {
    if (f.events !== '*') values.push(...f.events);
    values.push(...(f.sources ?? []));
    for (const { property, ops } of f.where) {
      properties.push(property);
      values.push(...operands(ops));
    }
  };
  const walk = (c: Condition): void => {
    switch (c.kind) {
      case 'all':
      case 'any':
        c.items.forEach(walk);
        return;
      case 'not':
        walk(c.item);
        return;
      case 'cohort':
        return;
      case 'event':
        filter(c.filter);
        if (c.measure.kind !== 'count' && c.measure.of !== undefined) properties.push(c.measure.of);
        return;
      case 'latest':
      case 'earliest':
        filter(c.filter);
        properties.push(c.property);
        values.push(...operands(c.ops));
        return;
      case 'velocity':
      case 'periods':
        filter(c.filter);
        return;
      case 'sequence':
        c.steps.forEach(filter);
        return;
    }
  };
  walk(condition);
  return { values, properties };
}

/** Text and boolean operands (compared as text); numbers are compared as doubles, not text. */
function operands(ops: PropertyOps): string[] {
  const texts = [ops.contains, ops.starts_with, ops.ends_with];
  return [ops.eq, ops.neq, ...(ops.in ?? []), ...(ops.not_in ?? []), ...texts].flatMap((v) =>
    typeof v === 'string' ? [v] : typeof v === 'boolean' ? [String(v)] : [],
  );
}

describe.each(GOLDEN_CASES)('both dialects compile $name', ({ rules, metrics }) => {
  const cohorts: CohortDefinition[] = catalog(rules);
  const athena = compile(cohorts, DIALECTS.athena, LAKE, AS_OF, metrics);
  const duckdb = compile(cohorts, DIALECTS.duckdb, LAKE, AS_OF, metrics);

  it('to the same CTEs, in the same order (DuckDB adds the repeated event ids it de-duplicates)', () => {
    expect(cteNames(athena.sql)).toEqual(cteNames(duckdb.sql).filter((name) => name !== 'repeated_event_ids'));
    expect(cteNames(duckdb.sql)).toContain('repeated_event_ids');
  });

  it('to the same membership and metric columns, partitions, scans and properties', () => {
    expect([...athena.columns]).toEqual([...duckdb.columns]);
    expect(athena.metrics).toEqual(duckdb.metrics);
    expect(athena.partitions).toEqual(duckdb.partitions);
    expect(athena.separatePopulationScan).toBe(duckdb.separatePopulationScan);
    expect(athena.properties).toEqual(duckdb.properties);
  });

  it('to the same aggregates, with the same filters', () => {
    expect(aggregateAliases(athena.sql)).toEqual(aggregateAliases(duckdb.sql));
    expect(aggregateAliases(athena.sql).length).toBeGreaterThan(0);
    expect(normalized(cteBody(athena.sql, 'per_person'))).toBe(normalized(cteBody(duckdb.sql, 'per_person')));
  });

  it('to the same sequences (window functions over the same steps)', () => {
    const sequences = cteNames(athena.sql).filter((name) => name.startsWith('sequence_'));
    expect(sequences).toEqual(cteNames(duckdb.sql).filter((name) => name.startsWith('sequence_')));
    for (const name of sequences) expect(normalized(cteBody(athena.sql, name)), name).toBe(normalized(cteBody(duckdb.sql, name)));
  });

  it('to the same membership expressions', () => {
    expect(normalized(finalSelect(athena.sql))).toBe(normalized(finalSelect(duckdb.sql)));
    const columns = [...finalSelect(athena.sql).matchAll(/ AS "(c_[a-z0-9_]+)"/g)].map((m) => m[1]);
    expect(columns).toEqual([...athena.columns.values()]);
  });

  it('to the same scans of the lake', () => {
    // behaviour_deduped is the dialect's own (a grouped arg_min in DuckDB, row_number in Trino);
    // test/compiler/duckdb-run.test.ts checks that DuckDB keeps the same copy.
    for (const name of ['identity_map', 'behaviour_valid', ...(athena.separatePopulationScan ? ['population_valid', 'population'] : [])]) {
      // Only the trimming of white space and the timestamps are spelt differently.
      const spelling = (sql: string) =>
        normalized(cteBody(sql, name))
          .replaceAll(DIALECTS.athena.trimAsciiSpace('user_id'), 'TRIM_ASCII(user_id)')
          .replaceAll(DIALECTS.duckdb.trimAsciiSpace('user_id'), 'TRIM_ASCII(user_id)');
      expect(spelling(athena.sql), name).toBe(spelling(duckdb.sql));
    }
  });

  it('with every text from the definitions inside a quoted literal', () => {
    for (const sql of [athena.sql, duckdb.sql]) {
      const literals = literalValues(sql);
      for (const definition of cohorts) {
        const { values, properties } = userTexts(definition.rule);
        for (const value of values) expect(literals).toContain(value);
        for (const property of properties) expect(literals.some((l) => l.includes(`"${property}"`))).toBe(true);
      }
    }
  });
});

describe('hostile text from a definition', () => {
  const cohorts = catalog(GOLDEN_CASES.find((c) => c.name === 'hostile_values')?.rules ?? {});

  describe.each(Object.entries(DIALECTS))('in the %s query', (_name, dialect) => {
    const { sql } = compile(cohorts, dialect);
    const code = codeOnly(sql);

    it('never reaches the SQL outside a literal', () => {
      // GIVEN values such as x'; DROP TABLE events; -- THEN with every literal removed no fragment is left
      for (const fragment of ['DROP', 'DELETE', 'TABLE', ';', 'identities;', "it's", '50%', 'C:', '東京', '🎉']) {
        expect(code).not.toContain(fragment);
      }
    });

    it('leaves the query with one comment, its header', () => {
      const comments = lexSql(sql).filter((p) => p.kind === 'comment');
      expect(comments.map((c) => c.text)).toEqual([sql.split('\n')[0]]);
      expect(comments[0]?.text).toMatch(/^-- cohort-refresh: 1 cohorts as of /);
    });

    it('keeps each value whole, as exactly one literal', () => {
      const literals = literalValues(sql);
      expect(literals.filter((l) => l === INJECTION).length).toBeGreaterThanOrEqual(2); // the event name and the note
      for (const value of [
        "crm'); DELETE FROM identities; --",
        "it's",
        'C:\\temp\\new',
        '\\',
        '50%_off',
        'a_b',
        "''",
        'naïve café ☕',
        '東京',
        '🎉 party',
        'line1\nline2\tend',
      ]) {
        expect(literals).toContain(value);
      }
    });
  });
});
