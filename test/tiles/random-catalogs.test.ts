import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config/config.ts';
import { compileRefresh } from '../../shared/compiler/compile-refresh.ts';
import { duckdbDialect } from '../../shared/compiler/duckdb-dialect.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { DAY_MS } from '../../shared/tiles/day-split.ts';
import { tempDir } from '../support/cli.ts';
import { asOfs, catalog, lakeRows, random, SEEDS, START, writeLake } from '../support/random-catalog-draws.ts';
import { TileComparison } from './compare-tiles.ts';

/**
 * Tiles against the full computation on catalogs and lakes drawn at random from fixed seeds
 * (test/support/random-catalog-draws.ts; random-oracle.test.ts holds the full computation to the
 * SPEC oracle on the same draws). The hand-written cases test what their authors thought of; these test the combinations nobody did.
 */

const METRICS = parseConfig('metrics:\n  activation: {event: login, within: 2d}\n  value: {within: 30h}\n', 'cohorts.config.yaml').metrics;

/** 6 to 10 s a seed on this 2-core machine at load 7. */
describe('tiles against the full computation, on random catalogs and lakes', () => {
  it.each(SEEDS)(
    'seed %i: the same rows at each of three as-ofs rolled forward',
    async (seed) => {
      const r = random(seed);
      const { definitions, text } = catalog(r);
      const lake = await tempDir();
      await writeLake(lake, lakeRows(r), r);
      const state = await tempDir();
      const connection = await openDuckDb();
      try {
        for (const asOf of asOfs(r)) {
          const comparison = new TileComparison(connection, lake, definitions, state, METRICS);
          await comparison.build(asOf);
          try {
            await comparison.compareRefresh(asOf);
          } catch (error) {
            throw new Error(`seed ${seed}, as of ${new Date(asOf).toISOString()}, catalog:\n${text}\n${(error as Error).message}`);
          }
        }
        // AND the draw is no trivial one: a cohort holds some people of the population and not all of them (seeds 1 to 86: 1 to 6 such cohorts)
        const engine = new DuckDbEngine(connection, lake);
        const lakeView = await engine.lake();
        const full = compileRefresh({
          cohorts: definitions,
          asOf: new Date(START + 7 * DAY_MS),
          lake: lakeView.relations,
          dialect: duckdbDialect,
        });
        const rows = await engine.rows(full.sql);
        const sizes = [...full.columns.values()].map((column) => rows.filter((row) => row[column] === true).length);
        expect(sizes.filter((size) => size > 0 && size < rows.length).length, `sizes ${sizes} of ${rows.length}`).toBeGreaterThanOrEqual(1);
      } finally {
        connection.closeSync();
      }
    },
    120_000,
  );
});
