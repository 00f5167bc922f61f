import type { PrivacySettings } from '../config/privacy-schema.ts';
import type { BlobStore, MembersCodec, PrivacyKeySource, SweptFiles } from '../ports.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';

/** One store and the prefixes swept in it. */
export interface SweptArea {
  readonly files: SweptFiles;
  readonly prefixes: readonly string[];
}

/**
 * What the privacy rules work on. Locally every blob store is the state folder; in the cloud
 * `blobs` and the snapshot store are the snapshots bucket and `exports` the exports bucket.
 */
export interface PrivacyPorts {
  readonly settings: PrivacySettings;
  /** Where the erasure records, the suppression list and the deletion requests live. */
  readonly blobs: BlobStore;
  readonly store: SnapshotStore;
  /** Reads and writes member Parquet files (snapshots and their export copies). */
  readonly codec: MembersCodec;
  /**
   * The store whose `exports/` keys hold exports; erasure rewrites them and the check reads them.
   * @default - no exports are checked or rewritten
   */
  readonly exports?: BlobStore;
  /**
   * Every file erasure and the privacy check reach beyond the versions and exports they rewrite
   * by structure: crash leftovers, incomplete versions, any other file. Locally the whole state
   * folder; in the cloud `snapshots/` and `privacy/` of the snapshots bucket and `exports/`.
   * @default - {@link defaultSweep}
   */
  readonly sweep?: readonly SweptArea[];
  /**
   * The HMAC key of erasure records, kept where readers of `privacy/` cannot read it (unless
   * `settings.salt_env` names an environment variable, locally).
   * @default - none: erasure and screening with records raise PrivacyConfigError
   */
  readonly keys?: PrivacyKeySource;
  /** Where `settings.salt_env` is read. @default - process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** @default - the system clock */
  readonly now?: () => Date;
  /** The tiles, when the world keeps them. @default - no tiles */
  readonly tiles?: TilesErasure;
  /**
   * The uploaded lists (`lists/` beside the definitions): erasure rewrites them without the
   * person's lines and every privacy check reads them. @default - no lists
   */
  readonly lists?: ListsArea;
}

/**
 * Daily tiles (issue 14) hold identity keys (source, normalized user id), not person ids, so the
 * sweep cannot find a person's keys in them: erasure asks the tile store to drop them.
 */
export interface TilesErasure {
  /** Rewrites the tiles without the rows of the identity keys of a person (any of `forms`); returns the files rewritten. */
  forget(forms: readonly string[]): Promise<readonly string[]>;
}

/**
 * The uploaded lists (`lists/<name>.csv` beside the definitions): personal data that erasure
 * rewrites and the privacy check reads. Locally the definitions folder; in the cloud the
 * definitions bucket.
 */
export interface ListsArea {
  readonly files: SweptFiles;
  /** The lists' folder in `files`, e.g. `lists/`. */
  readonly prefix: string;
}

/** The privacy config is unusable as it stands (for example the salt variable is not set). */
export class PrivacyConfigError extends Error {
  override readonly name = 'PrivacyConfigError';
}
