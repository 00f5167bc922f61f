import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { INGEST_ERRORS_PREFIX } from '../bucket-layout.ts';
import { partitionFolderDate } from '../compiler/partition-date.ts';
import type { RefusedFiles } from '../ports.ts';

async function entries(folder: string): Promise<string[]> {
  try {
    return await readdir(folder);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw error;
  }
}

/**
 * The files of refused records under a lake folder's `events-errors/<kind>/dt=YYYY-MM-DD/` (what
 * `cohorts ingest` writes; a copy of Firehose's error output has the same shape), with the day of
 * each; `.tmp-` files being written are left out. Undefined when there is none.
 */
export async function findRefusedFiles(lakeDir: string): Promise<RefusedFiles | undefined> {
  const root = join(lakeDir, INGEST_ERRORS_PREFIX);
  const days: string[] = [];
  for (const kind of await entries(root)) {
    for (const folder of await entries(join(root, kind))) {
      const day = partitionFolderDate(folder);
      if (day === undefined) continue;
      for (const file of await entries(join(root, kind, folder))) if (!file.startsWith('.tmp-')) days.push(day);
    }
  }
  return days.length === 0 ? undefined : { location: root, days };
}
