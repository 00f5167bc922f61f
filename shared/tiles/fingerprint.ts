import { DAY_MS } from './day-split.ts';

/** One input file of a tile day as it was when the tile was built. */
export interface InputFile {
  /** The file's path under the lake's events folder (`dt=YYYY-MM-DD/<name>`), or its S3 key. */
  readonly path: string;
  readonly size: number;
  /** Modification time (ISO-8601) locally; the ETag in S3. */
  readonly version: string;
}

/** What a day's tile was built from and for (`tiles/day=<d>/fingerprint.json`). */
export interface TileFingerprint {
  readonly day: string;
  /** Every events file of partitions d-1..d+1 (the SPEC's one day of slack), sorted by path. */
  readonly inputs: readonly InputFile[];
  /** The measure ids the tile holds, sorted. */
  readonly measures: readonly string[];
  /** A digest of the contested event ids that have a copy on this day (they are left out of the tile). */
  readonly contested: string;
}

/** Whether a stored tile serves a refresh, and why not. */
export type TileStatus =
  | { readonly status: 'fresh' }
  | { readonly status: 'missing' }
  | { readonly status: 'stale'; readonly reason: 'inputs' | 'measures' | 'contested' };

/** The partitions `dt=d-1`, `dt=d`, `dt=d+1` a day's tile reads. */
export function tilePartitions(day: string): string[] {
  const start = Date.parse(`${day}T00:00:00Z`);
  return [start - DAY_MS, start, start + DAY_MS].map((ms) => new Date(ms).toISOString().slice(0, 10));
}

/** Whether a file is as it was: the same size and version (modification time or ETag). */
export const sameVersion = (a: Pick<InputFile, 'size' | 'version'>, b: Pick<InputFile, 'size' | 'version'>) =>
  a.size === b.size && a.version === b.version;

/** Whether two sorted input lists name the same files with the same sizes and versions. */
export const sameInputs = (a: readonly InputFile[], b: readonly InputFile[]) =>
  a.length === b.length && a.every((f, i) => f.path === b[i]?.path && sameVersion(f, b[i] as InputFile));

/**
 * The inputs `current` adds to `stored` when every stored input is still there unchanged (files only
 * came: a realtime tick's new file); undefined when one was removed or rewritten.
 */
export function addedInputs(stored: readonly InputFile[], current: readonly InputFile[]): InputFile[] | undefined {
  const now = new Map(current.map((f) => [f.path, f]));
  const unchanged = (f: InputFile) => {
    const c = now.get(f.path);
    return c !== undefined && sameVersion(c, f);
  };
  if (!stored.every(unchanged)) return undefined;
  const before = new Set(stored.map((f) => f.path));
  return current.filter((f) => !before.has(f.path));
}

/**
 * Compares a stored tile with the day's current inputs: stale when a file was added, removed or
 * rewritten (late data, backfills), when a measure the catalog now needs is missing (a new or
 * changed definition), or when the contested ids of the day changed.
 */
export function tileStatus(stored: TileFingerprint | undefined, current: TileFingerprint): TileStatus {
  if (stored === undefined) return { status: 'missing' };
  if (!sameInputs(stored.inputs, current.inputs)) return { status: 'stale', reason: 'inputs' };
  if (!current.measures.every((m) => stored.measures.includes(m))) return { status: 'stale', reason: 'measures' };
  if (stored.contested !== current.contested) return { status: 'stale', reason: 'contested' };
  return { status: 'fresh' };
}
