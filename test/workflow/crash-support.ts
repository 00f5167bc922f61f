import type { BlobStore } from '../../shared/ports.ts';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import { SnapshotStore } from '../../shared/store/snapshot-store.ts';
import type { World } from './support.ts';

/** What a simulated kill -9 raises: the process is gone, nothing after it runs. */
export class SimulatedCrash extends Error {
  override readonly name = 'SimulatedCrash';
}

/** A write of a blob store, as the crash point sees it. */
export interface BlobWrite {
  readonly op: 'put' | 'create' | 'putIfUnchanged';
  readonly key: string;
}

/**
 * A blob store that "dies" just before the first write matching `at`: that write and every later
 * operation fail, as if the process had been killed there, so nothing after the crash point
 * reaches the store (the in-process form of scripts/kill-at-op.mjs).
 */
export class CrashingBlobs implements BlobStore {
  private dead = false;

  constructor(
    private readonly inner: BlobStore,
    private readonly at: (write: BlobWrite) => boolean,
  ) {}

  /** Whether the crash point was reached. */
  get crashed(): boolean {
    return this.dead;
  }

  private alive(): void {
    if (this.dead) throw new SimulatedCrash('the process was killed earlier');
  }

  private write(write: BlobWrite): void {
    this.alive();
    if (this.at(write)) {
      this.dead = true;
      throw new SimulatedCrash(`killed before ${write.op} ${write.key}`);
    }
  }

  async get(key: string) {
    this.alive();
    return this.inner.get(key);
  }

  async put(key: string, body: Uint8Array | string) {
    this.write({ op: 'put', key });
    return this.inner.put(key, body);
  }

  async create(key: string, body: Uint8Array | string) {
    this.write({ op: 'create', key });
    return this.inner.create(key, body);
  }

  async getWithEtag(key: string) {
    this.alive();
    return this.inner.getWithEtag(key);
  }

  async putIfUnchanged(key: string, body: Uint8Array | string, expectedEtag: string | undefined) {
    this.write({ op: 'putIfUnchanged', key });
    return this.inner.putIfUnchanged(key, body, expectedEtag);
  }

  async list(prefix: string) {
    this.alive();
    return this.inner.list(prefix);
  }

  locate(key: string) {
    return this.inner.locate(key);
  }
}

/** The same world after a restart: its state folder through a fresh, healthy store. */
export function restarted(world: World): World {
  const blobs = new FsBlobStore(world.state);
  return { ...world, blobs, store: new SnapshotStore(blobs, world.engine) };
}
