import type { ProjectConfig } from '../config/config.ts';
import { openLocalContext } from './local-context.ts';
import type { CohortEvents } from '../deliver/events.ts';
import { BlobExports, type CohortExports } from '../deliver/exports.ts';
import { JsonlEvents } from './jsonl-events.ts';
import { FsBlobStore } from './fs-blob-store.ts';
import type { DefinitionsSource, Notifier, ProgressListener, QueryEngine } from '../ports.ts';
import type { PrivacyPorts } from '../privacy/ports.ts';
import { oneLocalListing } from './local-listing.ts';
import { localPrivacyPorts } from './local-privacy.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';
import { stateCatalog } from './state-catalog.ts';
import type { RefreshGovernancePorts } from '../governance/refresh-governance.ts';
import { gitAuthors } from './git-author.ts';
import { folderDefinitions } from '../store/definitions-source.ts';
import { JsonlNotifier } from './jsonl-notifier.ts';
import type { TileStore } from '../tiles/tile-store.ts';
import type { SourceCheckSource } from '../checks/source-check-source.ts';

/** The local world's ports for a run of the state machine. */
export interface LocalPorts {
  /** The catalog: a definitions folder. */
  readonly definitions: DefinitionsSource;
  /** DuckDB over the lake folder. */
  readonly engine: QueryEngine;
  /** Snapshots in the state folder. */
  readonly store: SnapshotStore;
  /** Alerts: `<state>/alerts.jsonl`. */
  readonly notifier: Notifier;
  /** Exports of published versions: `<state>/exports/`, the exports bucket's layout. */
  readonly exports: CohortExports;
  /** Events for programmatic consumers: `<state>/events.jsonl`. */
  readonly events: CohortEvents;
  /** Daily tiles: `<state>/tiles/`. */
  readonly tiles: TileStore;
  /**
   * The engine and tiles of one Tiles step over one listing of the lake (oneLocalListing), made
   * anew for each step. @default - `engine` and `tiles` (each lists the lake when it reads it)
   */
  readonly tilesStep?: () => { readonly engine: QueryEngine; readonly tiles: TileStore };
  /** The source checks, keeping the identity map's keys under `<state>/checks/` between runs. @default - their query, every run */
  readonly sourceChecks?: SourceCheckSource;
  /** Source check levels and SLAs (`cohorts.config.yaml`). @default - DEFAULT_CONFIG */
  readonly config?: ProjectConfig;
  /** The clock of manifests and summaries. @default - the system clock */
  readonly now?: () => Date;
  /** The published catalog and audit trail: `<state>/catalog/`. @default - none: no guardrails */
  readonly governance?: RefreshGovernancePorts;
  /** Suppression, deletion requests and the privacy check, over the state folder. @default - none */
  readonly privacy?: PrivacyPorts;
}

/** The local ports over the CLI's folders: the same engine and store `cohorts run` uses. */
export async function openLocalPorts(
  folders: { readonly data: string; readonly definitions: string; readonly state: string; readonly privacyKey?: string },
  config?: ProjectConfig,
  /** Told of long work (a tile build in several batches). @default - nothing told */
  onProgress?: ProgressListener,
): Promise<LocalPorts> {
  const context = await openLocalContext(onProgress ? { ...folders, onProgress } : folders);
  const { engine, store, tiles, sourceChecks } = context;
  return {
    definitions: folderDefinitions(folders.definitions),
    engine,
    store,
    tiles,
    tilesStep: () => oneLocalListing(engine, (over) => engine.tiles(folders.state, onProgress, over)),
    sourceChecks,
    notifier: JsonlNotifier.inState(folders.state),
    exports: new BlobExports(new FsBlobStore(folders.state), engine),
    events: JsonlEvents.inState(folders.state),
    governance: { catalog: stateCatalog(folders.state), authorOf: gitAuthors() },
    ...(config ? { config } : {}),
    privacy: localPrivacyPorts(context, config, folders.privacyKey),
  };
}
