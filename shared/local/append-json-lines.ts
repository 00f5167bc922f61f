import { appendFile, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileWriteError } from './file-error.ts';
import { makeFolder } from './make-folder.ts';

/**
 * Appends one JSON line per record to a file, creating its folder. One appendFile call for all
 * of them: concurrent writers interleave whole lines, never parts. A last line left without its
 * newline (a full disk, or a crash inside an earlier append) is ended first, so it stays one bad
 * line that readers skip ({@link readJsonLines}) instead of swallowing the first new record.
 */
export async function appendJsonLines(file: string, records: readonly unknown[]): Promise<void> {
  if (records.length === 0) return;
  await makeFolder(dirname(file));
  const lines = records.map((record) => `${JSON.stringify(record)}\n`).join('');
  await appendFile(file, (await endsTorn(file)) ? `\n${lines}` : lines).catch((error: unknown) => {
    throw fileWriteError(error, file, dirname(file));
  });
}

/** Whether a file exists, is not empty and does not end with a newline. */
async function endsTorn(file: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    return last[0] !== 0x0a;
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
