import { createHash, randomUUID } from 'node:crypto';
import { type FileHandle, link, open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { BlobExistsError, type BlobStore, ConcurrentUpdateError, type EtaggedBlob } from '../ports.ts';
import { fileWriteError } from './file-error.ts';
import { makeFolder } from './make-folder.ts';

/**
 * A lock older than this was left by a writer that died inside `putIfUnchanged` (which holds it
 * for a read and a rename, milliseconds): it is broken instead of blocking every later write.
 */
const STALE_LOCK_MS = 30_000;

/**
 * The name of a write in progress ({@link FsBlobStore}'s writeTemp, `.tmp-<uuid>` beside its target):
 * what a killed writer leaves, and all that a clean-up outside the state folder may remove
 * (shared/ingest/ingest-leftovers.ts).
 */
export const TEMPORARY_FILE = /^\.tmp-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The tag of some bytes: their SHA-256, quoted like an S3 ETag. */
const etagOf = (body: Uint8Array | string) => `"${createHash('sha256').update(body).digest('hex')}"`;

/**
 * A folder as a blob store. Writes go to a temporary file first and are then renamed (or, for
 * `create`, hard-linked, which fails when the target exists), so no reader ever sees half a file.
 * `putIfUnchanged` compares and swaps under a lock file beside the object (created with O_EXCL),
 * so two processes sharing the folder cannot both replace what they read.
 */
export class FsBlobStore implements BlobStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  locate(key: string): string {
    const path = resolve(this.root, key);
    if (path !== this.root && !path.startsWith(this.root + sep)) throw new Error(`key escapes the store: ${key}`);
    return path;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.locate(key)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Bytes [start, end) of an object; undefined when there is none or it is shorter. */
  async getRange(key: string, start: number, end: number): Promise<Uint8Array | undefined> {
    let file: FileHandle;
    try {
      file = await open(this.locate(key), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const bytes = new Uint8Array(end - start);
      const { bytesRead } = await file.read(bytes, 0, bytes.length, start);
      return bytesRead === bytes.length ? bytes : undefined;
    } finally {
      await file.close();
    }
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const temp = await this.writeTemp(key, body);
    await rename(temp, this.locate(key));
  }

  async create(key: string, body: Uint8Array | string): Promise<void> {
    const temp = await this.writeTemp(key, body);
    try {
      await link(temp, this.locate(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new BlobExistsError(`${key} already exists and is never rewritten`);
      throw error;
    } finally {
      await unlink(temp);
    }
  }

  async getWithEtag(key: string): Promise<EtaggedBlob | undefined> {
    const body = await this.get(key);
    return body === undefined ? undefined : { body, etag: etagOf(body) };
  }

  async putIfUnchanged(key: string, body: Uint8Array | string, expectedEtag: string | undefined): Promise<string> {
    const target = this.locate(key);
    await makeFolder(dirname(target));
    const lock = join(dirname(target), `.tmp-${basename(target)}.lock`);
    const held = await this.acquire(lock, key);
    try {
      const seen = await this.get(key);
      if ((seen === undefined ? undefined : etagOf(seen)) !== expectedEtag)
        throw new ConcurrentUpdateError(`${target} changed since it was read`);
      await rename(await this.writeTemp(key, body), target);
      return etagOf(body);
    } finally {
      await held.close();
      await unlink(lock);
    }
  }

  /** Takes the lock file, or raises ConcurrentUpdateError while another writer holds it. */
  private async acquire(lock: string, key: string, breakStale = true): Promise<FileHandle> {
    try {
      return await open(lock, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (breakStale && age > STALE_LOCK_MS) {
        await unlink(lock).catch(() => undefined);
        return this.acquire(lock, key, false);
      }
      throw new ConcurrentUpdateError(`another writer is replacing ${key} (lock ${lock})`);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const start = this.locate(prefix.endsWith('/') ? prefix.slice(0, -1) : dirname(prefix));
    const keys: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (!entry.name.startsWith('.tmp-')) keys.push(relative(this.root, path).split(sep).join('/'));
      }
    };
    await walk(start);
    return keys.filter((key) => key.startsWith(prefix)).sort();
  }

  private async writeTemp(key: string, body: Uint8Array | string): Promise<string> {
    const target = this.locate(key);
    await makeFolder(dirname(target));
    const temp = join(dirname(target), `.tmp-${randomUUID()}`);
    try {
      await writeFile(temp, body);
    } catch (error) {
      // A write cut short (a full disk) may hold part of a member list: never leave it behind.
      await unlink(temp).catch(() => undefined);
      throw fileWriteError(error, target, this.root);
    }
    return temp;
  }
}
