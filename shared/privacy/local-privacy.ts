import { DEFAULT_CONFIG, type ProjectConfig } from '../config/config.ts';
import type { MembersCodec } from '../ports.ts';
import type { FsBlobStore } from '../store/fs-blob-store.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';
import { localFiles } from './local-files.ts';
import type { PrivacyPorts } from './ports.ts';

/** The local world's privacy ports: everything in the state folder, exports under `<state>/exports`; every file of it swept. */
export function localPrivacyPorts(
  context: { readonly blobs: FsBlobStore; readonly store: SnapshotStore; readonly engine: MembersCodec },
  config: ProjectConfig = DEFAULT_CONFIG,
): PrivacyPorts {
  return { settings: config.privacy, blobs: context.blobs, store: context.store, codec: context.engine, exports: context.blobs, sweep: [{ files: localFiles(context.blobs), prefixes: [''] }] };
}
