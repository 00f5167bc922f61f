import { appendFile, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileWriteError } from './file-error.ts';
import { makeFolder } from './make-folder.ts';

/**
 * Appends one JSON line per record to a file, creating its folder. One appendFile call for all
 * of them: concurrent writers interleave whole lines, never parts. An append that fails part-way
 * (a full disk) takes back the bytes it wrote, so the file stays as it was. A last line left without
 * its newline (a crash inside an earlier append) is ended first, so it stays one bad line that
 * readers skip ({@link readJsonLines}) instead of swallowing the first new record.
 */
export async function appendJsonLines(file: string, records: readonly unknown[]): Promise<void> {
  if (records.length === 0) return;
  await makeFolder(dirname(file));
  const lines = records.map((record) => `${JSON.stringify(record)}\n`).join('');
  const before = await tailOf(file);
  const text = before.torn ? `\n${lines}` : lines;
  await appendFile(file, text).catch(async (error: unknown) => {
    await takeBack(file, before.size, Buffer.from(text)).catch(() => undefined);
    throw fileWriteError(error, file, dirname(file));
  });
}

/** A file's size, and whether it is not empty and does not end with a newline (none: size 0). */
async function tailOf(file: string): Promise<{ readonly size: number; readonly torn: boolean }> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { size: 0, torn: false };
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return { size, torn: false };
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    return { size, torn: last[0] !== 0x0a };
  } finally {
    await handle.close();
  }
}

/**
 * Cuts a file back to `size` when what lies past it is the start of `written`, the part of an append
 * that reached the file before it failed; bytes that are not exactly those (another writer's) are
 * left alone. Truncating needs no free space.
 */
async function takeBack(file: string, size: number, written: Buffer): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    const now = (await handle.stat()).size;
    const extra = now - size;
    if (extra <= 0 || extra > written.length) return;
    const tail = Buffer.alloc(extra);
    await handle.read(tail, 0, extra, size);
    if (tail.equals(written.subarray(0, extra))) await handle.truncate(size);
  } finally {
    await handle.close();
  }
}

/** The records of a JSON-lines file, and the lines that did not parse (torn by a crash or a full disk). */
export interface JsonLines<T> {
  readonly records: T[];
  /** 1-based numbers of the lines skipped because they are not JSON. */
  readonly torn: number[];
}

/** Reads a JSON-lines file (none: no records), skipping and reporting lines that do not parse. */
export async function readJsonLines<T = Record<string, unknown>>(file: string): Promise<JsonLines<T>> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const records: T[] = [];
  const torn: number[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      records.push(JSON.parse(line) as T);
    } catch {
      torn.push(index + 1);
    }
  });
  return { records, torn };
}
