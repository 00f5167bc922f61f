import type { MetricColumns } from '../compiler/compile-refresh.ts';
import type { CohortKpiTotals, EvaluationRef, LakeView, QueryEngine } from '../ports.ts';

/** A query engine that also lists its lake with what its world records beside the view (files, ETags). */
export interface ListingEngine<Listed extends { readonly view: LakeView }> extends QueryEngine {
  /** Lists the lake anew: the view and the files it names. */
  listLake(): Promise<Listed>;
}

/**
 * `engine` with its lake listed once, on first use: `lake()` and `listLake()` then give that one
 * listing, so every query and tile build of one step reads the same files even when a file lands
 * while the step runs. Both worlds' Tiles step builds one per step (the cloud's oneListing, the
 * local oneLocalListing), never per process or container: each refresh lists the lake anew.
 */
export function listedOnce<Listed extends { readonly view: LakeView }>(engine: ListingEngine<Listed>): ListingEngine<Listed> {
  let listed: Promise<Listed> | undefined;
  const listLake = () => {
    listed ??= engine.listLake();
    return listed;
  };
  return {
    name: engine.name,
    dialect: engine.dialect,
    lake: async (): Promise<LakeView> => (await listLake()).view,
    listLake,
    evaluate: (sql: string, runId: string) => engine.evaluate(sql, runId),
    members: (result: EvaluationRef, column: string) => engine.members(result, column),
    kpis: (result: EvaluationRef, column: string, metrics: MetricColumns): Promise<CohortKpiTotals> => engine.kpis(result, column, metrics),
    release: (result: EvaluationRef) => engine.release(result),
    rows: (sql: string) => engine.rows(sql),
  };
}
