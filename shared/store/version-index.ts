import { BlobExistsError, type BlobStore } from '../ports.ts';
import { SNAPSHOTS_PREFIX } from '../bucket-layout.ts';
import type { Manifest } from './manifest.ts';

/**
 * The index of a cohort's versions: a derivative of the version folders and manifests (which stay
 * the source of truth), so a refresh reads O(recent versions) instead of listing every version.
 *
 * - `snapshots/cohort=<id>/index.json` (`{"through": N}`): every version number up to N was started
 *   when it was written. Written after a version's manifest, so it may lag behind (a crash, two runs
 *   at once) but never runs ahead. Readers trust it up to N and find the versions started after it
 *   by listing single version folders (N+1, N+2, N+4, ..., then halving), since version numbers are
 *   taken densely (one past the highest started, SnapshotStore.nextVersion) and folders are never
 *   deleted. Missing or torn: rebuilt from one full listing (and the as-of entries of every version).
 * - `snapshots/cohort=<id>/as-of/<as-of>/version=<N>.json`: one entry per version, written before
 *   its manifest, so every complete version has one; an entry whose manifest never came is ignored.
 *   The as-of match of Plan lists only its as-of's entries.
 */
export class VersionIndex {
  constructor(
    private readonly blobs: BlobStore,
    /** Told of an index write that failed (the refresh goes on). @default - a line on stderr */
    private readonly warn: IndexWarning = warnOnStderr,
  ) {}

  /**
   * The highest version number ever started (a file in its folder), 0 when none. When the index was
   * missing or torn, also the full scan it was rebuilt from: the index and its as-of entries may not
   * be written (a full disk, no permission), so readers use the scan. With `repair` (a refresh, about
   * to write), a missing, torn or stale index is written; without (a read such as `cohorts checks`),
   * nothing is: a read never writes, so a typo'd id leaves no folder behind.
   */
  async newestStarted(cohort: string, fullScan: () => Promise<FullScan>, repair: boolean): Promise<{ newest: number; scan?: FullScan }> {
    const through = await this.through(cohort);
    if (through === undefined) {
      const scan = await fullScan();
      if (repair)
        await this.bestEffort(cohort, async () => {
          // The as-of entries of versions older than the index first: the index promises them.
          for (const { version, as_of } of scan.complete) await this.addAsOf(cohort, version, as_of);
          await this.write(cohort, scan.newestStarted);
        });
      return { newest: scan.newestStarted, scan };
    }
    const newest = await this.probeAbove(cohort, through);
    if (repair && newest > through) await this.bestEffort(cohort, () => this.write(cohort, newest));
    return { newest };
  }

  /** The versions whose as-of entry names this as-of (their manifests may be missing: check them). */
  async versionsAsOf(cohort: string, asOf: string): Promise<number[]> {
    const keys = await this.blobs.list(asOfPrefix(cohort, asOf));
    return keys
      .map((key) => ENTRY_KEY.exec(key)?.[1])
      .filter((v): v is string => v !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  /** Writes a version's as-of entry once (a retried write finds it written). Call before its manifest. */
  async addAsOf(cohort: string, version: number, asOf: string): Promise<void> {
    try {
      await this.blobs.create(`${asOfPrefix(cohort, asOf)}version=${version}.json`, `${JSON.stringify({ version, as_of: asOf })}\n`);
    } catch (error) {
      if (!(error instanceof BlobExistsError)) throw error;
    }
  }

  /**
   * Moves an existing index up to a version just written. A missing one stays missing: only a full
   * scan, which also writes the as-of entries of versions older than the index, creates it.
   */
  async advance(cohort: string, version: number): Promise<void> {
    const through = await this.through(cohort);
    if (through !== undefined && through < version) await this.bestEffort(cohort, () => this.write(cohort, version));
  }

  /**
   * Writes of the index itself (not of as-of entries before a manifest) never fail a refresh: a
   * missing or stale index only makes the next reader scan or probe more, and it repairs it then.
   * A failed write is reported to {@link warn}: one that keeps failing (a permission, a full disk)
   * makes every refresh scan or probe, which someone should hear of.
   */
  private async bestEffort(cohort: string, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      // Left missing or stale on purpose: see above.
      this.warn('the index of versions could not be written; the next refresh scans or probes again', {
        cohort,
        key: indexKey(cohort),
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
    }
  }

  /** Two writers may race and leave the lower number: readers probe on from it, so that is only slower. */
  private async write(cohort: string, through: number): Promise<void> {
    await this.blobs.put(indexKey(cohort), `${JSON.stringify({ through })}\n`);
  }

  /** The index's `through`, or undefined when it is missing or unreadable. */
  private async through(cohort: string): Promise<number | undefined> {
    const bytes = await this.blobs.get(indexKey(cohort));
    if (!bytes) return undefined;
    try {
      const through = (JSON.parse(Buffer.from(bytes).toString('utf8')) as { through?: unknown }).through;
      return typeof through === 'number' && Number.isSafeInteger(through) && through >= 0 ? through : undefined;
    } catch {
      return undefined;
    }
  }

  /** The highest started version at or above `known` (started itself, or 0): gallops up, then halves. */
  private async probeAbove(cohort: string, known: number): Promise<number> {
    let low = known;
    let step = 1;
    while (await this.started(cohort, known + step)) {
      low = known + step;
      step *= 2;
    }
    let high = known + step;
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (await this.started(cohort, middle)) low = middle;
      else high = middle;
    }
    return low;
  }

  private async started(cohort: string, version: number): Promise<boolean> {
    return (await this.blobs.list(`${SNAPSHOTS_PREFIX}cohort=${cohort}/version=${version}/`)).length > 0;
  }
}

/** What one full listing of a cohort's folder finds, to rebuild the index from. */
export interface FullScan {
  /** The highest version number with a file in its folder, 0 when none. */
  readonly newestStarted: number;
  /** Every complete version's manifest, ascending. */
  readonly complete: readonly Manifest[];
}

/** Reports a failed write of the index: a message and what it concerns (cohort, key, error). */
export type IndexWarning = (message: string, details: { readonly cohort: string; readonly key: string; readonly error: string }) => void;

const warnOnStderr: IndexWarning = (message, details) => {
  process.stderr.write(`warning: ${message} (${details.key}: ${details.error})\n`);
};

const indexKey = (cohort: string) => `${SNAPSHOTS_PREFIX}cohort=${cohort}/index.json`;
/**
 * The as-of in a key: letters and digits only (`20240601T000000000Z`; `:` is not a file name on every
 * system). Two as-ofs spelled alike share a folder: readers compare each manifest's as-of anyway.
 */
const asOfPrefix = (cohort: string, asOf: string) =>
  `${SNAPSHOTS_PREFIX}cohort=${cohort}/as-of/${asOf.replace(/[^0-9A-Za-z]/g, '') || '_'}/`;
const ENTRY_KEY = /\/as-of\/[^/]+\/version=(\d+)\.json$/;
