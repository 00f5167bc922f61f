import type { MetricColumns } from '../compiler/compile-refresh.ts';
import type { CohortKpiTotals, EvaluationRef, LakeView, QueryEngine } from '../ports.ts';
import type { LocalListedLake } from './lake-files.ts';
import type { LocalLakeEngine, LocalTiles } from './local-tile-store.ts';

/** The ports of one Tiles step over one listing of the lake folder. */
export interface OneLocalListing {
  /** The engine, its `lake()` the one listing (listed on first use). */
  readonly engine: QueryEngine;
  /** The tiles, built and fingerprinted from the same listing. */
  readonly tiles: LocalTiles;
}

/**
 * One listing of the lake for one Tiles step, the local twin of the cloud's oneListing: the tiled
 * query's raw partitions and the tile builds read the same files, even when a file lands while the
 * step runs (`cohorts ingest` beside `cohorts watch`). Before, the query read one listing and the
 * builds another: one refresh could count a file's events of one day and not those of the next.
 * Build it per step, never per process: each refresh lists the lake anew.
 */
export function oneLocalListing(
  engine: QueryEngine & LocalLakeEngine,
  tilesOver: (engine: QueryEngine & LocalLakeEngine) => LocalTiles,
): OneLocalListing {
  let listed: Promise<LocalListedLake> | undefined;
  const listLake = () => {
    listed ??= engine.listLake();
    return listed;
  };
  const once: QueryEngine & LocalLakeEngine = {
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
  return { engine: once, tiles: tilesOver(once) };
}
