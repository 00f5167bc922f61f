import { readdir, stat, unlink } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { INGEST_ERRORS_PREFIX } from '../bucket-layout.ts';
import { TEMPORARY_FILE } from '../local/fs-blob-store.ts';

/**
 * How old (by modification time) a temporary file of the lake must be before an ingest removes it:
 * one hour. A live writer (an ingest, `sample-data --stream`) writes its `.tmp-<uuid>` in one
 * `writeFile`, whose every chunk renews the time, then links it into place and unlinks it at once:
 * its temporary file is never more than a few seconds past its last write, even a gigabyte under
 * load. An hour leaves room for a writer paused (a laptop asleep) short of that; one paused longer
 * finds its temporary file gone and fails (its retry is harmless: a refresh counts each event_id once).
 */
export const LAKE_LEFTOVER_AGE_MS = 3_600_000;

/** The lake's folders `cohorts ingest` writes into. */
const INGEST_FOLDERS = ['events', INGEST_ERRORS_PREFIX.slice(0, -1)] as const;

/**
 * Removes the temporary files a killed ingest left under a lake folder's `events/` and
 * `events-errors/`: `.tmp-<uuid>` files not modified for {@link LAKE_LEFTOVER_AGE_MS} before `now`.
 * No reader reads them (they have no data extension), and ingest holds no lock a live writer could
 * be told by, so age alone tells a dead writer's file from a live one's. Returns the removed
 * files' keys (relative to the lake, `/`-separated), sorted.
 */
export async function removeLakeLeftovers(lakeDir: string, now: Date): Promise<string[]> {
  const removed: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [];
      throw error;
    });
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && TEMPORARY_FILE.test(entry.name) && (await isOld(path, now))) {
        // Gone meanwhile (another ingest removed it, or its writer linked and unlinked it): nothing to do.
        await unlink(path).then(
          () => removed.push(relative(lakeDir, path).split(sep).join('/')),
          (error: NodeJS.ErrnoException) => {
            if (error.code !== 'ENOENT') throw error;
          },
        );
      }
    }
  };
  for (const folder of INGEST_FOLDERS) await walk(join(lakeDir, folder));
  return removed.sort();
}

async function isOld(path: string, now: Date): Promise<boolean> {
  const modified = await stat(path).then(
    (s) => s.mtimeMs,
    () => undefined,
  );
  return modified !== undefined && now.getTime() - modified > LAKE_LEFTOVER_AGE_MS;
}
