import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { isTempName } from '../privacy/sweep.ts';

/**
 * What a crashed (killed) writer can leave in a state folder. Each holds, or may hold, a whole
 * member list, and none is ever read as data:
 * - `temporary`: a `.tmp-<uuid>` file of the blob store (written, not yet linked or renamed into
 *   place), a stale `.tmp-<name>.lock` of a compare-and-swap, a report's `.<pid>-<ms>.tmp`, the
 *   run lock's `run.lock.<uuid>.new` (no member list, but litter), or any file in a `.tmp-` folder
 *   (a tile build's day parts, `tiles/.tmp-build-<pid>-<n>/`: rows per identity key), or such a
 *   folder holding no file at all (a build killed after its parts were put in place);
 * - `partial-version`: a file in `snapshots/cohort=<id>/version=<N>/` that has no `manifest.json`
 *   (a version that was started and never completed, so never current and never exported). Its
 *   folder keeps one file, `abandoned.json` (no member), so the number is never given to another
 *   version;
 * - `partial-export`: a file in `exports/cohort=<id>/version=<N>/` past the version `latest.json`
 *   names (an export cut short; the version's next delivery writes it again).
 */
export interface Leftover {
  /** Relative to the state folder, `/`-separated. */
  readonly path: string;
  readonly kind: 'temporary' | 'partial-version' | 'partial-export';
}

/** What stays of an unfinished version once its files are removed: its number stays taken. */
export const ABANDONED_FILE = 'abandoned.json';

const TEMPORARY = /^(\.tmp-.*|\.\d+-\d+\.tmp|run\.lock\.[0-9a-f-]{36}\.new)$/;
const VERSION_FOLDER = /^(snapshots|exports)\/cohort=[^/]+\/version=(\d+)$/;

/**
 * Every leftover in a state folder, sorted by path. Reads only. A file a live writer is writing
 * looks the same, so removing them ({@link removeLeftovers}) is safe only under the state
 * folder's run lock (shared/local/run-lock.ts), which every writing command holds.
 */
export async function findLeftovers(state: string): Promise<Leftover[]> {
  const found: Leftover[] = [];
  /** Walks a folder; returns how many leftovers it found there. */
  const walk = async (dir: string, scratch: boolean): Promise<number> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    const before = found.length;
    const rel = relative(state, dir).split(sep).join('/');
    const folder = VERSION_FOLDER.exec(rel);
    const partial = folder
      ? await isPartial(
          state,
          rel,
          folder[1] as string,
          Number(folder[2]),
          entries.map((e) => e.name),
        )
      : false;
    for (const entry of entries) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        const outermostScratch = !scratch && isTempName(entry.name);
        // A build killed after it moved its parts out leaves a scratch folder of empty folders: the folder is the leftover.
        if ((await walk(join(dir, entry.name), scratch || outermostScratch)) === 0 && outermostScratch)
          found.push({ path, kind: 'temporary' });
      } else if (scratch || TEMPORARY.test(entry.name)) found.push({ path, kind: 'temporary' });
      else if (partial && !(entry.name === ABANDONED_FILE && folder?.[1] === 'snapshots'))
        found.push({ path, kind: folder?.[1] === 'snapshots' ? 'partial-version' : 'partial-export' });
    }
    return found.length - before;
  };
  await walk(state, false);
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The outermost temporary folder a leftover lies in (a tile build's scratch), if any: it goes with its files. */
function temporaryFolder(path: string): string | undefined {
  const names = path.split('/');
  const at = names.slice(0, -1).findIndex(isTempName);
  return at < 0 ? undefined : names.slice(0, at + 1).join('/');
}

/** Whether a version folder is an incomplete one: no manifest (snapshots), or past `latest.json` (exports). */
async function isPartial(state: string, folder: string, area: string, version: number, names: readonly string[]): Promise<boolean> {
  if (area === 'snapshots') return !names.includes('manifest.json');
  const latest = await readFile(join(state, folder, '..', 'latest.json'), 'utf8').then(
    (text) => (JSON.parse(text) as { version?: unknown }).version,
    () => undefined,
  );
  return typeof latest !== 'number' || version > latest;
}

/**
 * Removes every leftover of a state folder; returns what it removed. An unfinished version's
 * folder keeps `abandoned.json` (its number stays taken: SnapshotStore.nextVersion skips it), an
 * unfinished export's folder is removed once empty. Call it only while holding the state folder's
 * run lock (a live writer's files look the same).
 */
export async function removeLeftovers(state: string): Promise<Leftover[]> {
  const leftovers = await findLeftovers(state);
  for (const leftover of leftovers) await rm(join(state, leftover.path), { recursive: true, force: true });
  for (const folder of new Set(leftovers.flatMap((l) => temporaryFolder(l.path) ?? [])))
    await rm(join(state, folder), { recursive: true, force: true });
  const folderOf = (l: Leftover) => l.path.slice(0, l.path.lastIndexOf('/'));
  for (const folder of new Set(leftovers.filter((l) => l.kind === 'partial-version').map(folderOf))) {
    const removed = leftovers
      .filter((l) => l.kind === 'partial-version' && folderOf(l) === folder)
      .map((l) => l.path.slice(folder.length + 1));
    await writeFile(
      join(state, folder, ABANDONED_FILE),
      `${JSON.stringify({ reason: 'started by a run that never completed it; its files were removed', removed, at: new Date().toISOString() })}\n`,
    );
  }
  for (const folder of new Set(leftovers.filter((l) => l.kind === 'partial-export').map(folderOf))) {
    if ((await readdir(join(state, folder)).catch(() => ['?'])).length === 0)
      await rm(join(state, folder), { recursive: true, force: true });
  }
  return leftovers;
}
