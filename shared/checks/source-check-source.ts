import type { LakeView, QueryEngine } from '../ports.ts';
import { compileSourceChecks } from './source-query.ts';
import { readSourceCheckRows, type SourceCheckRow } from './source-rows.ts';

/**
 * Where a refresh gets the rows of its source checks (source-rows.ts). A world may keep between
 * runs what did not change (locally: the identity map's keys, see local-source-checks.ts); the
 * rows are the same as {@link querySourceChecks} returns.
 */
export interface SourceCheckSource {
  rows(asOf: Date, lake: LakeView): Promise<SourceCheckRow[]>;
}

/** The source checks as one query of the engine, every run (compileSourceChecks). */
export function querySourceChecks(engine: QueryEngine): SourceCheckSource {
  return {
    rows: async (asOf, lake) =>
      readSourceCheckRows(await engine.rows(compileSourceChecks({ asOf, lake: lake.relations, dialect: engine.dialect }).sql)),
  };
}
