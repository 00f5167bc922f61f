import { readFile } from 'node:fs/promises';
import { UsageError } from './errors.ts';

/** What a file named on the command line that cannot be read means (node's text names neither the command nor the fix). */
const UNREADABLE: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EISDIR: 'a folder, not a file',
  EACCES: 'not readable (permission denied)',
};

/** What a failed read of a file named on the command line means (missing, a folder, not readable), or undefined for other errors. */
export function unreadableReason(error: unknown): string | undefined {
  return UNREADABLE[(error as NodeJS.ErrnoException).code ?? ''];
}

/**
 * Reads a file named on the command line. One that is missing, a folder or not readable is a
 * UsageError (exit 2) naming it and saying what the command reads (`reads`, e.g. "cohorts ingest
 * reads a JSON Lines file"); other errors are thrown as they are.
 */
export async function readNamedFile(name: string, reads: string): Promise<Buffer> {
  try {
    return await readFile(name);
  } catch (error) {
    const why = unreadableReason(error);
    if (why === undefined) throw error;
    throw new UsageError(`${name}: ${why}; ${reads}`);
  }
}
