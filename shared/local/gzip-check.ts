import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { readJson, writeTextAtomically } from './local-tiles.ts';
import { LakeFileError } from './parquet-columns.ts';

/** Where the files found whole are remembered, in the state folder. */
export const GZIP_CHECKED_KEY = 'gzip-checked.json';

/** How many files are read at once: zlib runs on libuv's threads, one per core here. */
const AT_ONCE = 2;

/** What identifies one state of a file: rewritten or replaced, it is read again. */
const stateOf = (s: { size: number; mtimeMs: number; ctimeMs: number }) => `${s.size}:${s.mtimeMs}:${s.ctimeMs}`;

/** Reads a whole gzip file through zlib, which checks every member's length and checksum; the reason it is not whole, if it is not. */
async function damage(file: string): Promise<string | undefined> {
  const head = new Uint8Array(2);
  const handle = await open(file, 'r');
  try {
    await handle.read(head, 0, 2, 0);
  } finally {
    await handle.close();
  }
  if (head[0] !== 0x1f || head[1] !== 0x8b) return 'not gzip-compressed, though its name ends in .gz';
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  try {
    await pipeline(createReadStream(file), createGunzip(), discard);
    return undefined;
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === 'Z_BUF_ERROR') return 'its gzip stream is cut short (the file ends inside it): replace it with a whole copy, or remove it';
    if (typeof code === 'string' && code.startsWith('Z_'))
      return `its gzip stream is damaged (${message}): replace it with a whole copy, or remove it`;
    throw error;
  }
}

/**
 * Checks that each `.gz` file of a local lake is whole before DuckDB reads it: DuckDB's gzip
 * reader checks neither a stream's length nor its checksum, so a file cut short or damaged inside
 * its stream was read as far as it went (the rest of its events silently missing), where Athena's
 * reader is expected to fail the query (not verified: no Athena here). A file found whole is not
 * read again until its size or times change: remembered for the engine's life, and in the state
 * folder's `gzip-checked.json` when there is one.
 */
export class GzipCheck {
  private whole: ReadonlyMap<string, string> | undefined;
  /** The state folder's record of the files found whole; none: this process only. */
  private readonly record: string | undefined;

  /** @param stateDir - the state folder, where the files found whole are kept; none: this process only. */
  constructor(stateDir?: string) {
    this.record = stateDir === undefined ? undefined : join(stateDir, GZIP_CHECKED_KEY);
  }

  /** Throws a {@link LakeFileError} naming the first of `files` (those ending in `.gz`) that is not whole gzip. */
  async verify(files: readonly string[]): Promise<void> {
    const gzipped = files.filter((f) => f.endsWith('.gz'));
    const known = await this.load();
    if (gzipped.length === 0 && known.size === 0) return;
    const whole = new Map<string, string>();
    const unchecked: [file: string, seen: string][] = [];
    for (let i = 0; i < gzipped.length; i += 64) {
      const batch = gzipped.slice(i, i + 64);
      const states = await Promise.all(batch.map(async (file) => stateOf(await stat(file))));
      batch.forEach((file, j) => {
        const seen = states[j] as string;
        if (known.get(file) === seen) whole.set(file, seen);
        else unchecked.push([file, seen]);
      });
    }
    let failure: LakeFileError | undefined;
    for (let i = 0; i < unchecked.length && failure === undefined; i += AT_ONCE) {
      const batch = unchecked.slice(i, i + AT_ONCE);
      const reasons = await Promise.all(batch.map(([file]) => damage(file)));
      batch.forEach(([file, seen], j) => {
        const reason = reasons[j];
        if (reason === undefined) whole.set(file, seen);
        else failure ??= new LakeFileError(`cannot read ${file}: ${reason}`);
      });
    }
    await this.save(known, whole);
    if (failure) throw failure;
  }

  private async load(): Promise<ReadonlyMap<string, string>> {
    if (this.whole) return this.whole;
    // A record that cannot be read or parsed is only a cache: every file is read again.
    const kept = this.record === undefined ? undefined : await readJson<{ files?: unknown }>(this.record).catch(() => undefined);
    const files = kept?.files;
    const entries = typeof files === 'object' && files !== null ? Object.entries(files) : [];
    this.whole = new Map(entries.filter((e): e is [string, string] => typeof e[1] === 'string'));
    return this.whole;
  }

  /**
   * Keeps the files found whole among those listed now. Never creates the state folder (the write
   * fails where there is none), and a write that fails is left so: this is a cache, each file is
   * read again next time.
   */
  private async save(before: ReadonlyMap<string, string>, now: ReadonlyMap<string, string>): Promise<void> {
    this.whole = now;
    const same = before.size === now.size && [...now].every(([file, seen]) => before.get(file) === seen);
    if (same || this.record === undefined) return;
    await writeTextAtomically(this.record, `${JSON.stringify({ files: Object.fromEntries(now) })}\n`).catch(() => undefined);
  }
}
