import { listedOnce } from '../engine/listed-once.ts';
import type { QueryEngine } from '../ports.ts';
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
  const once = listedOnce<ListedLake>(engine);
  return { engine: once, lake: () => once.listLake() };
}
