import { openDuckDb } from './open-duckdb.ts';
import { DuckDbEngine } from './duckdb-engine.ts';
import { FsBlobStore } from './fs-blob-store.ts';
import { LocalSourceChecks } from './local-source-checks.ts';
import { LearningsStore } from '../learnings/learnings-store.ts';
import { SnapshotStore } from '../store/snapshot-store.ts';
import type { LocalTiles } from './local-tile-store.ts';
import { localFiles } from './local-files.ts';
import { LISTS_FOLDER } from '../language/uploaded-lists.ts';
import type { ListsArea } from '../privacy/ports.ts';
import type { ProgressListener } from '../ports.ts';

/** Local ports: DuckDB over the lake folder, snapshots in the state folder. */
export interface LocalContext {
  readonly engine: DuckDbEngine;
  readonly store: SnapshotStore;
  /** The state folder as a blob store (privacy files, exports). */
  readonly blobs: FsBlobStore;
  /** Daily tiles under `<state>/tiles/`, over the lake folder. */
  readonly tiles: LocalTiles;
  /** The source checks, keeping the identity map's keys under `<state>/checks/`. */
  readonly sourceChecks: LocalSourceChecks;
  /** The uploaded lists of the definitions folder, for the privacy rules; absent without a definitions folder. */
  readonly lists?: ListsArea;
}

/** Wires the local world: the only place the CLI chooses implementations. */
export async function openLocalContext(options: {
  readonly data: string;
  readonly state: string;
  /** The definitions folder, whose `lists/` the engine reads. @default - no uploaded lists */
  readonly definitions?: string;
  /** Told of long work (a tile build in several batches). @default - nothing told */
  readonly onProgress?: ProgressListener;
}): Promise<LocalContext> {
  const connection = await openDuckDb();
  const engine = new DuckDbEngine(connection, options.data, await DuckDbEngine.describe(connection), options.state, options.definitions);
  const blobs = new FsBlobStore(options.state);
  const store = new SnapshotStore(blobs, engine);
  const lists =
    options.definitions === undefined
      ? {}
      : { lists: { files: localFiles(new FsBlobStore(options.definitions)), prefix: `${LISTS_FOLDER}/` } };
  const sourceChecks = new LocalSourceChecks(connection, engine, options.data, options.state);
  return { engine, store, blobs, tiles: engine.tiles(options.state, options.onProgress), sourceChecks, ...lists };
}

/** The learnings library of the local state folder. */
export function localLearnings(state: string): LearningsStore {
  return new LearningsStore(new FsBlobStore(state));
}
