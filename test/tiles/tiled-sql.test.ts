import { describe, expect, it } from 'vitest';
import { athenaDialect } from '../../shared/compiler/athena-dialect.ts';
import { duckdbDialect } from '../../shared/compiler/duckdb-dialect.ts';
import { catalogMeasures } from '../../shared/tiles/measures.ts';
import { compileTiledRefresh, inexactSumsSql, type TileRelations, tileDaysNeeded } from '../../shared/tiles/tiled-refresh.ts';
import { requestSequences } from '../../shared/tiles/sequence-uses.ts';
import {
  AS_OF,
  BACKSLASH_STAND_IN,
  calledFunctions,
  catalog,
  codeOnly,
  GOLDEN_CASES,
  LAKE,
  parseTrino,
  TRINO_FUNCTIONS,
} from '../compiler/support.ts';

/** Fixed tile relations, as a Glue table and two subqueries over the contested copies would read. */
const TILES: TileRelations = {
  tiles: 'cohorts.tiles',
  contestedIds: '(SELECT DISTINCT event_id FROM cohorts.contested_copies)',
  contestedEvents: 'cohorts.contested_copies',
};

const request = (name: string, dialect = athenaDialect) => {
  const golden = GOLDEN_CASES.find((c) => c.name === name) as (typeof GOLDEN_CASES)[number];
  return {
    cohorts: catalog(golden.rules),
    asOf: AS_OF,
    lake: LAKE,
    dialect,
    tiles: TILES,
    firstPartition: '2024-01-01',
    ...(golden.metrics ? { metrics: golden.metrics } : {}),
  };
};

/** How often a relation name stands in the query's code (outside literals and comments). */
const reads = (sql: string, relation: string) => codeOnly(sql).split(relation).length - 1;

describe.each(GOLDEN_CASES.map((c) => c.name))('the tiled Athena query of the golden case %s', (name) => {
  const compiled = compileTiledRefresh(request(name));
  const inexact = inexactSumsSql(request(name));

  it('parses with the trino grammar of node-sql-parser, and so does its inexact-sums query', () => {
    for (const sql of [compiled.sql, inexact]) {
      expect(sql).not.toContain(BACKSLASH_STAND_IN);
      expect(() => parseTrino(sql)).not.toThrow();
    }
  });

  it('calls only functions that exist in Trino', () => {
    // `JOIN (VALUES ...) AS tile_uses (...)` looks like calls to the parser-free check: not functions.
    const known = new Set([...TRINO_FUNCTIONS, 'bool_and', 'join', 'values', 'tile_uses', 'raw_uses']);
    expect(calledFunctions(compiled.sql + inexact).filter((f) => !known.has(f))).toEqual([]);
  });

  it('reads the tiles once and the lake events once (Trino inlines CTEs)', () => {
    expect(reads(compiled.sql, 'cohorts.tiles')).toBe(1);
    expect(reads(compiled.sql, 'cohorts.events')).toBe(compiled.rawPartitions.length > 0 ? 1 : 0);
    expect(reads(compiled.sql, 'cohorts.identities')).toBe(1);
  });

  it('gives the result columns of the full computation', () => {
    const cohorts = request(name).cohorts;
    expect([...compiled.columns.keys()]).toEqual(cohorts.map((c) => c.id));
    // Tiled measures (catalogMeasures) and those always read raw (earliest, date operators in where,
    // sequences by their own id: issue 16).
    const tiled = catalogMeasures(cohorts, request(name).metrics).map((m) => m.id);
    expect(compiled.measures).toEqual([...tiled, ...compiled.rawMeasures].sort());
    for (const id of requestSequences(cohorts, AS_OF.getTime()).map((s) => s.id)) expect(compiled.rawMeasures).toContain(id);
  });
});

describe('what the tiled query reads', () => {
  it('reads whole days from tiles and the partial days of hour windows and of a mid-day T raw', () => {
    // GIVEN within 12h, 30d and 2w at 2024-06-15 12:00 (golden window_within)
    const compiled = compileTiledRefresh(request('window_within', duckdbDialect));
    // THEN the tiles up to 06-14 are read (presence: all history), and raw, with one day of slack
    // each side: 05-16 (the 30d window's first half day), 06-01 (the 2w one's) and 06-15 (T's day,
    // where the 12h window lies whole)
    expect(compiled.tileDays).toEqual({ to: '2024-06-15' });
    expect(compiled.rawPartitions).toEqual([
      '2024-05-15',
      '2024-05-16',
      '2024-05-17',
      '2024-05-31',
      '2024-06-01',
      '2024-06-02',
      '2024-06-14',
      '2024-06-15',
      '2024-06-16',
    ]);
    expect(compiled.rawMeasures).toEqual([]);
  });

  it('reads a raw measure over its whole window, and one reaching all history from the first partition', () => {
    const base = request('sum_value', duckdbDialect);
    const [sum] = catalogMeasures(base.cohorts);
    const compiled = compileTiledRefresh({ ...base, rawMeasures: [sum?.id as string] });
    expect(compiled.rawMeasures).toEqual([sum?.id]);
    // 52 weeks before 2024-06-15 12:00, whole days from 2023-06-17 (clipped to the first partition, 2024-01-01)
    expect(compiled.rawPartitions[0]).toBe('2024-01-01');
    expect(compiled.rawPartitions.at(-1)).toBe('2024-06-16');
    const allHistory = request('sum_property', duckdbDialect);
    const [seats] = catalogMeasures(allHistory.cohorts);
    const { firstPartition: _, ...without } = { ...allHistory, rawMeasures: [seats?.id as string] };
    expect(compileTiledRefresh({ ...without, firstPartition: '2024-06-10' }).rawPartitions[0]).toBe('2024-06-10');
    expect(() => compileTiledRefresh(without)).toThrow(/first partition/);
  });

  it('needs every tile day from the day before the first partition to the day before T', () => {
    const days = tileDaysNeeded({ ...request('window_within'), asOf: new Date('2024-01-04T06:00:00Z') }, '2024-01-01');
    expect(days).toEqual(['2023-12-31', '2024-01-01', '2024-01-02', '2024-01-03']);
    expect(tileDaysNeeded(request('window_within'), undefined)).toEqual([]);
  });

  it('asks about no measure when no sum reads tiles', () => {
    expect(inexactSumsSql(request('latest'))).toBe('SELECT CAST(NULL AS VARCHAR) AS measure WHERE FALSE');
  });
});
