import { appendFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { makeFolder } from './make-folder.ts';

/**
 * Appends one JSON line per record to a file, creating its folder. One appendFile call for all
 * of them: concurrent writers interleave whole lines, never parts.
 */
export async function appendJsonLines(file: string, records: readonly unknown[]): Promise<void> {
  if (records.length === 0) return;
  await makeFolder(dirname(file));
  await appendFile(file, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
}
