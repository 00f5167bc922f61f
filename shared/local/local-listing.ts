import { listedOnce } from '../engine/listed-once.ts';
import type { QueryEngine } from '../ports.ts';
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
  const once = listedOnce<LocalListedLake>(engine);
  return { engine: once, tiles: tilesOver(once) };
}
