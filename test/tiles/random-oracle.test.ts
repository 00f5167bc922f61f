import { describe, expect, it } from 'vitest';
import { compileRefresh } from '../../shared/compiler/compile-refresh.ts';
import { duckdbDialect } from '../../shared/compiler/duckdb-dialect.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { tempDir } from '../support/cli.ts';
import { asOfs, catalog, lakeRows, random, SEEDS, writeLake } from '../support/random-catalog-draws.ts';
import { judge, microsOf, type Outcome, oracleOutcomes } from '../support/spec-oracle.ts';

/**
 * The full computation (DuckDB, as random-catalogs.test.ts runs it) against the SPEC oracle
 * (test/support/spec-oracle.ts, written from the SPEC alone) on the same random catalogs, lakes and
 * as-ofs: every person's population membership and cohorts, for every cohort and as-of. The tiles
 * are held to the full computation by random-catalogs.test.ts, so a misreading of the SPEC that
 * both share shows up here. Where copies of an event_id differ, the oracle allows each copy.
 */
describe('the full computation against the SPEC oracle, on random catalogs and lakes', () => {
  it.each(SEEDS)(
    'seed %i: the population and every cohort as the oracle has them, at each of three as-ofs',
    async (seed) => {
      // GIVEN the seed's catalog and lake, drawn as random-catalogs draws them
      const r = random(seed);
      const { definitions, texts, text } = catalog(r);
      const lake = await tempDir();
      await writeLake(lake, lakeRows(r), r);
      const connection = await openDuckDb();
      try {
        const engine = new DuckDbEngine(connection, lake);
        const relations = (await engine.lake()).relations;
        for (const asOf of asOfs(r)) {
          // WHEN the full computation and the oracle evaluate it
          const full = compileRefresh({ cohorts: definitions, asOf: new Date(asOf), lake: relations, dialect: duckdbDialect });
          const actual = new Map<string, Outcome>();
          for (const row of await engine.rows(full.sql)) {
            const member = [...full.columns].filter(([, column]) => row[column] === true).map(([id]) => id);
            actual.set(String(row.person_id), member.sort());
          }
          const verdict = judge(oracleOutcomes(lake, texts, microsOf(asOf)), actual);
          // THEN every person's outcome is one the oracle allows
          expect(verdict.disagreements, `seed ${seed}, as of ${new Date(asOf).toISOString()}, catalog:\n${text}`).toEqual([]);
          expect(verdict.settled).toBeGreaterThan(0);
        }
      } finally {
        connection.closeSync();
      }
    },
    120_000,
  );
});
