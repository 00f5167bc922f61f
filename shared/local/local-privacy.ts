import { DEFAULT_CONFIG, type ProjectConfig } from '../config/config.ts';
import type { MembersCodec } from '../ports.ts';
import type { FsBlobStore } from './fs-blob-store.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';
import { localFiles } from './local-files.ts';
import { defaultKeyFile, localKeyFile } from './local-key.ts';
import type { PrivacyPorts, TilesErasure } from '../privacy/ports.ts';
import type { ListsArea } from '../privacy/ports.ts';

/**
 * The local world's privacy ports: everything in the state folder, exports under `<state>/exports`;
 * every file of it swept; the privacy key in a file outside it.
 */
export function localPrivacyPorts(
  context: {
    readonly blobs: FsBlobStore;
    readonly store: SnapshotStore;
    readonly engine: MembersCodec;
    readonly tiles?: TilesErasure;
    readonly lists?: ListsArea;
  },
  config: ProjectConfig = DEFAULT_CONFIG,
  /** The privacy key file (`--privacy-key`). @default defaultKeyFile() */
  keyFile: string = defaultKeyFile(),
): PrivacyPorts {
  const { blobs } = context;
  return {
    settings: config.privacy,
    blobs,
    store: context.store,
    codec: context.engine,
    exports: blobs,
    sweep: [{ files: localFiles(blobs), prefixes: [''] }],
    keys: localKeyFile(keyFile, { folder: blobs.locate(''), blobs }),
    ...(context.tiles ? { tiles: context.tiles } : {}),
    ...(context.lists ? { lists: context.lists } : {}),
  };
}
