import type { MetricColumns } from '../compiler/compile-refresh.ts';
import type { CohortKpiTotals, EvaluationRef, LakeView, QueryEngine } from '../ports.ts';
import type { AthenaEngine, ListedLake } from './athena-engine.ts';

/** An engine whose lake is listed once, and that listing for the tile store. */
export interface OneListing {
  /** The engine, its `lake()` the one listing (listed on first use). */
  readonly engine: QueryEngine;
  /** The same listing with its events files, for the tile fingerprints. */
  readonly lake: () => Promise<ListedLake>;
}

/**
 * One listing of the lake for one Tiles invocation: the tiled query's raw partitions and the tile
 * builds read the same manifests, and the fingerprints record the files those name. Build it per
 * invocation, never per container: each refresh lists the lake anew.
 */
export function oneListing(engine: AthenaEngine): OneListing {
  let listed: Promise<ListedLake> | undefined;
  const lake = () => {
    listed ??= engine.listLake();
    return listed;
  };
  return {
    lake,
    engine: {
      name: engine.name,
      dialect: engine.dialect,
      lake: async (): Promise<LakeView> => (await lake()).view,
      evaluate: (sql: string, runId: string) => engine.evaluate(sql, runId),
      members: (result: EvaluationRef, column: string) => engine.members(result, column),
      kpis: (result: EvaluationRef, column: string, metrics: MetricColumns): Promise<CohortKpiTotals> =>
        engine.kpis(result, column, metrics),
      release: (result: EvaluationRef) => engine.release(result),
      rows: (sql: string) => engine.rows(sql),
    },
  };
}
