import { describe, expect, it } from 'vitest';
import { compileSourceChecks, PARTS_COLUMNS } from '../../shared/checks/source-query.ts';
import { SOURCE_CHECK_COLUMNS } from '../../shared/checks/source-rows.ts';
import { athenaLakeRelations } from '../../shared/cloud/athena-lake.ts';
import { calledFunctions, codeOnly, cteNames, DIALECTS, LAKE, literalValues, parseTrino, TRINO_FUNCTIONS } from '../compiler/support.ts';
import { AS_OF } from './support.ts';

/** Trino functions the source-check query calls beyond the refresh compiler's (each exists in Trino). */
const SOURCE_CHECK_FUNCTIONS = new Set([...TRINO_FUNCTIONS, 'abs', 'date_diff', 'floor', 'grouping', 'max', 'rollup']);

/** A listing with both formats of events and identities, so every lake table is read. */
const GLUE_LISTING = {
  listing: '0123456789abcdef0123456789abcdef',
  dates: { jsonl: ['2024-05-01'], parquet: { micros: ['2024-06-01'], nanos: ['2024-06-02'], none: ['2024-06-03'] } },
  identities: { jsonl: true, parquet: true },
};

const compiled = (dialect: keyof typeof DIALECTS, lake = LAKE) => compileSourceChecks({ asOf: AS_OF, lake, dialect: DIALECTS[dialect] });

describe('the source-check query', () => {
  it('is valid Trino for Athena, over fixed relations and over the Glue lake relations', () => {
    expect(() => parseTrino(compiled('athena').sql)).not.toThrow();
    expect(() => parseTrino(compiled('athena', athenaLakeRelations({ database: 'cohort_refresh' }, GLUE_LISTING)).sql)).not.toThrow();
  });

  it('calls only functions that exist in Trino', () => {
    const unknown = calledFunctions(compiled('athena').sql).filter((name) => !SOURCE_CHECK_FUNCTIONS.has(name));
    expect(unknown).toEqual([]);
  });

  it('reads the events once and never their properties or value', () => {
    for (const dialect of ['athena', 'duckdb'] as const) {
      const { sql } = compiled(dialect);
      expect(sql.split(LAKE.events)).toHaveLength(2);
      expect(codeOnly(sql)).not.toMatch(/\bproperties\b|\bvalue\b/);
      expect(codeOnly(sql)).toMatch(/SELECT event_id, source, .* AS user_key, event_name, ts, dt\n\s+FROM cohorts\.events AS lake_events/);
    }
  });

  it('prunes dt to the 28 days of history and the last day, with a day of slack on each side', () => {
    const { sql, partitions, window } = compiled('duckdb');
    expect(partitions).toEqual({ from: '2024-05-16', to: '2024-06-16' });
    expect(sql).toContain("WHERE dt >= '2024-05-16' AND dt <= '2024-06-16'");
    // Rows without a usable ts count by partition: the window's days up to the one holding T.
    expect(window.undatedPartitions).toEqual({ from: '2024-05-17', to: '2024-06-15' });
    expect(sql).toContain("dt >= '2024-05-17' AND dt <= '2024-06-15'");
  });

  it('leaves out a partition whose day begins at T when T is midnight', () => {
    const { window } = compileSourceChecks({ asOf: new Date('2024-06-15T00:00:00Z'), lake: LAKE, dialect: DIALECTS.duckdb });
    expect(window.undatedPartitions.to).toBe('2024-06-14');
    expect(window.partitions).toEqual({ from: '2024-05-16', to: '2024-06-16' });
  });

  it('has the same shape in both dialects and returns the documented columns', () => {
    const athena = compiled('athena').sql;
    const duckdb = compiled('duckdb').sql;
    expect(cteNames(athena)).toEqual(['identity_keys', 'scanned', 'flagged', 'classified', 'keyed', 'per_key']);
    expect(cteNames(duckdb)).toEqual(cteNames(athena));
    for (const sql of [athena, duckdb]) {
      const [events, identities] = sql.split('\nUNION ALL\n');
      for (const branch of [events, identities]) {
        const select = (branch as string).slice((branch as string).lastIndexOf('\nSELECT ') + 8, (branch as string).lastIndexOf('\nFROM '));
        const aliases = codeOnly(select)
          .split(',\n')
          .map((item) => /(\w+)\s*$/.exec(item.trim())?.[1]);
        expect(aliases).toEqual([...SOURCE_CHECK_COLUMNS]);
      }
    }
  });

  it('by parts, is one statement of three branches returning the same columns (rows, ts spans, digests), valid Trino', () => {
    const keyOf = (source: string, eventId: string) => `xxhash64(to_utf8(concat(${source}, ${eventId})))`;
    for (const dialect of ['athena', 'duckdb'] as const) {
      const sql = compileSourceChecks({ asOf: AS_OF, lake: LAKE, dialect: DIALECTS[dialect], parts: ['2024-06-15', '2024-06-14'] }).byParts(
        keyOf,
      );
      const branches = sql.split('\nUNION ALL\n');
      expect(branches).toHaveLength(3);
      const kinds = branches.map((branch) => {
        const select = branch.slice(branch.lastIndexOf('\nSELECT ') + 8, branch.lastIndexOf('\nFROM '));
        expect([...codeOnly(select).matchAll(/(?:\bAS |^|,\s*)(\w+)(?=,|\s*$)/g)].map((m) => m[1])).toEqual([...PARTS_COLUMNS]);
        return /'(\w+)' AS kind/.exec(select)?.[1];
      });
      expect(kinds).toEqual(['rows', 'span', 'key']);
      // The events relation is named once (`scanned`, which each branch reads), by the partitions named only.
      expect(sql.split(LAKE.events)).toHaveLength(2);
      expect(sql).toContain("dt IN ('2024-06-14', '2024-06-15')");
      if (dialect === 'athena') {
        expect(() => parseTrino(sql)).not.toThrow();
        expect(
          calledFunctions(sql).filter(
            (name) => !SOURCE_CHECK_FUNCTIONS.has(name) && !['xxhash64', 'to_utf8', 'concat', 'min'].includes(name),
          ),
        ).toEqual([]);
      }
    }
  });

  it('writes every instant and day through the dialect and the literal helpers', () => {
    const athena = literalValues(compiled('athena').sql);
    expect(athena).toContain('2024-06-15 12:00:00.000 UTC');
    expect(athena).toContain('2024-05-17 00:00:00.000 UTC');
    expect(athena).toContain('1970-01-01 00:00:00.000 UTC');
    const duckdb = literalValues(compiled('duckdb').sql);
    expect(duckdb).toContain('2024-06-15 12:00:00.000');
  });

  it('normalizes identity and event user ids the way the refresh compiler does', () => {
    const { sql } = compiled('athena');
    const normalized =
      "CASE WHEN strpos(trim(user_id, ' ' || chr(9) || chr(13) || chr(10)), '@') > 0 THEN lower(trim(user_id, ' ' || chr(9) || chr(13) || chr(10))) ELSE trim(user_id, ' ' || chr(9) || chr(13) || chr(10)) END";
    expect(sql.split(normalized)).toHaveLength(3);
  });
});
