import { DEFAULT_CONFIG, type ProjectConfig } from '../config/config.ts';
import type { BlobStore, MembersCodec } from '../ports.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';
import type { PrivacyPorts } from './ports.ts';

/** The local world's privacy ports: everything in the state folder, exports under `<state>/exports`. */
export function localPrivacyPorts(
  context: { readonly blobs: BlobStore; readonly store: SnapshotStore; readonly engine: MembersCodec },
  config: ProjectConfig = DEFAULT_CONFIG,
): PrivacyPorts {
  return { settings: config.privacy, blobs: context.blobs, store: context.store, codec: context.engine, exports: context.blobs };
}
