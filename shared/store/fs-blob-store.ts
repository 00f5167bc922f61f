import { randomUUID } from 'node:crypto';
import { link, mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { BlobExistsError, type BlobStore } from '../ports.ts';

/**
 * A folder as a blob store. Writes go to a temporary file first and are then renamed (or, for
 * `create`, hard-linked, which fails when the target exists), so no reader ever sees half a file.
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
    await mkdir(dirname(target), { recursive: true });
    const temp = join(dirname(target), `.tmp-${randomUUID()}`);
    await writeFile(temp, body);
    return temp;
  }
}
