import type { BlobStore, SweptFiles } from '../ports.ts';
import type { PrivacyPorts, SweptArea } from './ports.ts';
import {
  DELETION_REQUESTS_PREFIX,
  ERASURES_PREFIX,
  EXPORTS_PREFIX,
  PRIVACY_PREFIX,
  SNAPSHOTS_PREFIX,
  TILES_PREFIX,
} from '../bucket-layout.ts';

/**
 * Keys the sweep leaves alone: erasure records (salted hashes, never ids) and deletion requests
 * not carried out yet (the next refresh carries them out and replaces them by a note).
 */
export const isSweepExempt = (key: string): boolean => key.startsWith(ERASURES_PREFIX) || key.startsWith(DELETION_REQUESTS_PREFIX);

/** One swept key: its store, and whether it is a crash leftover ({@link leftoverTest}). */
export interface SweptKey {
  readonly files: SweptFiles;
  readonly key: string;
  readonly leftover: boolean;
}

/** Every key of the areas, with the store it lives in, in order (exempt keys left out). */
export async function* sweptKeys(areas: readonly SweptArea[]): AsyncGenerator<SweptKey> {
  for (const area of areas) {
    const seen = new Set<string>();
    for (const prefix of area.prefixes) {
      const keys = await area.files.list(prefix);
      const isLeftover = leftoverTest(keys);
      for (const key of keys) {
        if (seen.has(key) || isSweepExempt(key)) continue;
        seen.add(key);
        yield { files: area.files, key, leftover: isLeftover(key) };
      }
    }
  }
}

/** A blob store as swept files (its own listing: S3 has no leftovers to hide), without deletion. */
export function blobFiles(blobs: BlobStore): SweptFiles {
  return {
    list: (prefix) => blobs.list(prefix),
    get: (key) => blobs.get(key),
    put: (key, body) => blobs.put(key, body),
    locate: (key) => blobs.locate(key),
  };
}

const VERSION_FILE = /^(snapshots\/cohort=[^/]+\/version=\d+\/)[^/]+$/;
/**
 * A name that marks a write never renamed or linked into place: a `.tmp-` file or folder (a tile build's scratch
 * parts), or `.build-<pid>-<n>`, the scratch folder of tile builds before it was named `.tmp-build-<pid>-<n>`.
 */
export const isTempName = (name: string): boolean => name.startsWith('.tmp-') || /^\.build-\d+-\d+$/.test(name);

/** A write that never got renamed or linked into place: a temporary file, or any file in a temporary folder. */
export const isTempFile = (key: string): boolean => {
  const names = key.split('/');
  const file = names.pop() ?? '';
  return file.startsWith('.tmp-') || names.some(isTempName);
};

/**
 * Whether a key is a crash leftover: a `.tmp-*` file (a write that never got renamed or linked),
 * or a file of a version folder without `manifest.json` (a version that was started and never
 * completed, so never published). `keys` is the listing it comes from.
 */
export function leftoverTest(keys: readonly string[]): (key: string) => boolean {
  const complete = new Set(
    keys.filter((key) => key.endsWith('/manifest.json') && VERSION_FILE.test(key)).map((key) => VERSION_FILE.exec(key)?.[1]),
  );
  return (key) => {
    if (isTempFile(key)) return true;
    const folder = VERSION_FILE.exec(key)?.[1];
    return folder !== undefined && !complete.has(folder);
  };
}

/** The areas swept when the ports name none: the snapshots store's `snapshots/`, `privacy/` and `tiles/` (daily tiles), the exports' `exports/`. */
export function defaultSweep(ports: Pick<PrivacyPorts, 'blobs' | 'exports'>): SweptArea[] {
  const areas: SweptArea[] = [{ files: blobFiles(ports.blobs), prefixes: [SNAPSHOTS_PREFIX, PRIVACY_PREFIX, TILES_PREFIX] }];
  if (ports.exports && ports.exports !== ports.blobs) areas.push({ files: blobFiles(ports.exports), prefixes: [EXPORTS_PREFIX] });
  else if (ports.exports)
    areas[0] = { files: blobFiles(ports.blobs), prefixes: [SNAPSHOTS_PREFIX, PRIVACY_PREFIX, TILES_PREFIX, EXPORTS_PREFIX] };
  return areas;
}

/** The areas to sweep. */
export const sweepOf = (ports: PrivacyPorts): readonly SweptArea[] => ports.sweep ?? defaultSweep(ports);
