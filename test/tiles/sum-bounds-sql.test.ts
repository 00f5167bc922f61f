import { describe, expect, it } from 'vitest';
import { athenaDialect } from '../../shared/compiler/athena-dialect.ts';
import type { Dialect } from '../../shared/compiler/dialect.ts';
import { duckdbDialect } from '../../shared/compiler/duckdb-dialect.ts';
import type { CohortDefinition } from '../../shared/language/ast.ts';
import { sumReaders, undecidedSumsSql } from '../../shared/tiles/sum-bounds.ts';
import type { TileRelations } from '../../shared/tiles/tiled-refresh.ts';
import { AS_OF, calledFunctions, catalog, codeOnly, LAKE, parseTrino, TRINO_FUNCTIONS } from '../compiler/support.ts';

const TILES: TileRelations = {
  tiles: 'cohorts.tiles',
  contestedIds: '(SELECT DISTINCT event_id FROM cohorts.contested_copies)',
  contestedEvents: 'cohorts.contested_copies',
};

/** Two sum measures read through bounds: `invoice_paid`'s value over 30 and 90 days, `seats_changed`'s seats over 2 weeks. */
const COHORTS = catalog({
  month_buyers: 'event: invoice_paid\nwithin: 30d\nsum: {gte: 100}',
  quarter_buyers: 'event: invoice_paid\nwithin: 90d\nsum: {gte: 500.5}',
  many_seats: 'event: seats_changed\nwithin: 2w\nsum: {of: seats, gt: 10}',
});

const request = (dialect: Dialect, cohorts: readonly CohortDefinition[] = COHORTS) => ({
  cohorts,
  asOf: AS_OF,
  lake: LAKE,
  dialect,
  tiles: TILES,
  firstPartition: '2024-01-01',
});
/** The measure ids of the sums `cohorts` read through bounds. */
const measuresOf = (cohorts: readonly CohortDefinition[]) => [
  ...new Set(sumReaders(request(athenaDialect, cohorts)).bounded.map((b) => b.use.measure.id)),
];
const MEASURES = measuresOf(COHORTS);

/** How often a relation name stands in the query's code (outside literals and comments). */
const reads = (sql: string, relation: string) => codeOnly(sql).split(relation).length - 1;

describe('the bounds query of the inexact sums (undecidedSumsSql)', () => {
  it('on Athena, reads the tiles once and parses with the trino grammar, with only functions Trino has', () => {
    const sql = undecidedSumsSql(request(athenaDialect), MEASURES);
    expect(MEASURES).toHaveLength(2);
    expect(reads(sql, 'cohorts.tiles')).toBe(1);
    expect(() => parseTrino(sql)).not.toThrow();
    const known = new Set([...TRINO_FUNCTIONS, 'bool_and', 'join', 'values', 'tile_uses', 'raw_uses', 'uses']);
    expect(calledFunctions(sql).filter((f) => !known.has(f))).toEqual([]);
  });

  it("on DuckDB, reads each measure's tile rows by a scan of its own, filtered by the measure and its uses' days (not by an IN list)", () => {
    const sql = undecidedSumsSql(request(duckdbDialect), MEASURES);
    expect(reads(sql, 'cohorts.tiles')).toBe(2);
    expect(codeOnly(sql)).not.toMatch(/measure IN \(/);
    const scans = sql
      .split('\n')
      .filter((line) => line.includes('m.measure ='))
      .map((line) => line.replace(/^.* WHERE /, ''));
    const [seats, invoice] = ['many_seats', 'quarter_buyers'].map((id) => measuresOf(COHORTS.filter((c) => c.id === id))[0]);
    // each from the first day of its widest window (T 2024-06-15 12:00: 90 days, 2 weeks back) to T's day, excluded
    expect(scans).toEqual([
      `m.measure = '${seats}' AND m.day >= '2024-06-02' AND m.day < '2024-06-15'`,
      `m.measure = '${invoice}' AND m.day >= '2024-03-18' AND m.day < '2024-06-15'`,
    ]);
  });
});
