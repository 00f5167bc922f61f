import type { ProjectConfig } from '../../shared/config/config.ts';
import { BlobExports } from '../../shared/deliver/exports.ts';
import { JsonlEvents } from '../../shared/local/jsonl-events.ts';
import type { BlobStore, MembersCodec, QueryEngine } from '../../shared/ports.ts';
import type { PrivacyPorts } from '../../shared/privacy/ports.ts';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import { SnapshotStore } from '../../shared/store/snapshot-store.ts';
import { folderDefinitions } from '../../shared/store/definitions-source.ts';
import { JsonlNotifier } from '../../shared/local/jsonl-notifier.ts';
import type { LocalPorts } from '../../shared/local/local-ports.ts';
import { WARN_ONLY_SOURCE_CHECKS } from './config.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import type { TileStore } from '../../shared/tiles/tile-store.ts';

/** The tiles of a world whose engine is DuckDB, in its state folder. */
function tilesOf(world: LocalWorld): TileStore {
  if (world.engine instanceof DuckDbEngine) return world.engine.tiles(world.state);
  throw new Error('a test world over another engine must give its tile store');
}

/** Where a test's refresh reads and writes. */
export interface LocalWorld {
  /** The definitions folder. */
  readonly definitions: string;
  /** The state folder: alerts.jsonl and events.jsonl go there. */
  readonly state: string;
  readonly engine: QueryEngine & MembersCodec;
  /** The state folder as a blob store (snapshots, exports). @default - the folder itself */
  readonly blobs?: BlobStore;
  /** @default - snapshots in `blobs` */
  readonly store?: SnapshotStore;
  /** @default - the DuckDB engine's tiles in the state folder */
  readonly tiles?: TileStore;
}

/**
 * The ports `cohorts run` gives a run (see openLocalPorts), over a test's folders: exports, events
 * and alerts in the state folder, no guardrails, privacy only when given. The config defaults to
 * source checks that only warn, as the small lakes of the tests end weeks before their as-of.
 */
export function localPortsOver(
  world: LocalWorld,
  extra: { readonly config?: ProjectConfig; readonly privacy?: PrivacyPorts } = {},
): LocalPorts {
  const blobs = world.blobs ?? new FsBlobStore(world.state);
  return {
    definitions: folderDefinitions(world.definitions),
    engine: world.engine,
    store: world.store ?? new SnapshotStore(blobs, world.engine),
    notifier: JsonlNotifier.inState(world.state),
    exports: new BlobExports(blobs, world.engine),
    events: JsonlEvents.inState(world.state),
    tiles: world.tiles ?? tilesOf(world),
    config: extra.config ?? WARN_ONLY_SOURCE_CHECKS,
    ...(extra.privacy ? { privacy: extra.privacy } : {}),
  };
}
