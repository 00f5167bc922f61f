import { setTimeout as pause } from 'node:timers/promises';
import { BlobExistsError, type BlobStore, ConcurrentUpdateError, type MembersCodec } from '../ports.ts';
import type { LostPublish, Manifest } from './manifest.ts';
import { SNAPSHOTS_PREFIX } from '../bucket-layout.ts';
import { memoized } from './members-memo.ts';
import { type FullScan, type IndexWarning, VersionIndex } from './version-index.ts';

/** Compare-and-swap attempts of one publish before its ConcurrentUpdateError reaches the caller. */
const PUBLISH_ATTEMPTS = 5;
/** Manifests read at once when walking back from the newest version. */
const READ_BATCH = 8;

const prefixOf = (cohort: string) => `${SNAPSHOTS_PREFIX}cohort=${cohort}/`;
const versionPrefix = (cohort: string, version: number) => `${prefixOf(cohort)}version=${version}/`;
/** The holdout of an experiment's version, beside members.parquet (SPEC keeps members.parquet one column). */
const HOLDOUT_FILE = 'holdout.parquet';
const VERSION_KEY = /^snapshots\/cohort=[^/]+\/version=(\d+)\/manifest\.json$/;
/** Records of versions that lost the publish race: beside the version folders, never inside one (versions stay as written). */
const lostPrefix = (cohort: string) => `${prefixOf(cohort)}lost-publish/`;
const LOST_KEY = /\/lost-publish\/version=(\d+)\.json$/;

/** A version the store was asked for that does not exist. */
export class VersionNotFoundError extends Error {
  override readonly name = 'VersionNotFoundError';
}

/**
 * `current.json` is not where a version expects it: another run published since this version was
 * computed against the previous one (its entered and exited would be wrong against the new
 * current), or current is already past it (publishing would move it backwards). Nothing was moved;
 * the next refresh computes against the new current. Not worth retrying.
 */
export class CurrentMovedError extends Error {
  override readonly name = 'CurrentMovedError';
}

/**
 * Versioned membership with manifests, in the layout of SPEC section 5, over any blob store.
 * A version exists once its manifest does; members are written before it, `current.json` after.
 */
export class SnapshotStore {
  /** The codec, remembering what it wrote and read (checked against the bytes; see memoized). */
  private readonly codec: MembersCodec;
  /** The index of versions (version-index.ts): what lets a refresh read only recent versions. */
  private readonly index: VersionIndex;

  constructor(
    private readonly blobs: BlobStore,
    codec: MembersCodec,
    options: {
      /** Told of a failed write of a cohort's index of versions (VersionIndex). @default - a line on stderr */
      readonly warn?: IndexWarning;
    } = {},
  ) {
    this.codec = memoized(codec);
    this.index = new VersionIndex(blobs, options.warn);
  }

  /** Complete versions of a cohort, ascending. */
  async versions(cohort: string): Promise<number[]> {
    return versionsIn(await this.blobs.list(prefixOf(cohort)));
  }

  /**
   * The number the next version gets: one past every version ever started, complete or not, so
   * files a crashed write left behind are never reused (they never became current either).
   */
  async nextVersion(cohort: string): Promise<number> {
    // current.json too: were a version folder ever removed by hand, numbers still never go back below current.
    // The index is repaired here: a refresh (or an erasure) is about to write a version.
    const [started, current] = await Promise.all([
      this.index.newestStarted(cohort, () => this.fullScan(cohort), true),
      this.current(cohort),
    ]);
    return Math.max(started.newest, current ?? 0) + 1;
  }

  /**
   * The highest version number ever started, complete or not (0: none), from the index and the
   * folders after it. A read: a missing or stale index is left as it is (nextVersion repairs it).
   */
  async newestStarted(cohort: string): Promise<number> {
    return (await this.index.newestStarted(cohort, () => this.fullScan(cohort), false)).newest;
  }

  /** One listing of every version (the index is missing or torn): what the index is rebuilt from. */
  private async fullScan(cohort: string): Promise<FullScan> {
    const keys = await this.blobs.list(prefixOf(cohort));
    const started = keys.map((key) => /\/version=(\d+)\//.exec(key)?.[1]).filter((v): v is string => v !== undefined);
    const found = await Promise.all(versionsIn(keys).map((v) => this.manifest(cohort, v)));
    return { newestStarted: Math.max(0, ...started.map(Number)), complete: found.filter((m): m is Manifest => m !== undefined) };
  }

  /**
   * The complete versions of an as-of, ascending, from the index's as-of entries: a few reads
   * however many versions the cohort has.
   */
  async manifestsAsOf(cohort: string, asOf: string): Promise<Manifest[]> {
    // Only a refresh's plan asks (and then writes a version or reuses this one): it repairs the index.
    const { scan } = await this.index.newestStarted(cohort, () => this.fullScan(cohort), true);
    // The index was just rebuilt (its as-of entries may not all be written): the scan has every version.
    if (scan) return scan.complete.filter((m) => m.as_of === asOf);
    const found = await Promise.all((await this.index.versionsAsOf(cohort, asOf)).map((v) => this.manifest(cohort, v)));
    return found.filter((m): m is Manifest => m !== undefined && m.as_of === asOf);
  }

  /**
   * Complete versions newest first, from `below - 1` (default: the newest started) down to `above + 1`
   * (default: version 1), read a few at a time: stop iterating once you have what you need.
   */
  async *manifestsNewestFirst(
    cohort: string,
    range: { readonly below?: number; readonly above?: number } = {},
  ): AsyncGenerator<Manifest, void, undefined> {
    // Below a given version, a number never started only costs a missing read: no index needed.
    const top = range.below === undefined ? await this.newestStarted(cohort) : range.below - 1;
    const bottom = Math.max(1, (range.above ?? 0) + 1);
    for (let high = top; high >= bottom; high -= READ_BATCH) {
      const batch = Array.from({ length: Math.min(READ_BATCH, high - bottom + 1) }, (_, i) => high - i);
      for (const manifest of await Promise.all(batch.map((v) => this.manifest(cohort, v)))) if (manifest) yield manifest;
    }
  }

  /**
   * The most recent versions of {@link publishedManifests} below `below`, ascending: walks back from
   * the newest until `enough` (given them newest first) says so, or the first version.
   */
  async recentPublished(cohort: string, below: number, enough: (newestFirst: readonly Manifest[]) => boolean): Promise<Manifest[]> {
    const lost = await this.lostVersions(cohort);
    const found: Manifest[] = [];
    if (enough(found)) return found;
    for await (const manifest of this.manifestsNewestFirst(cohort, { below })) {
      if (manifest.status !== 'published' || lost.has(manifest.version)) continue;
      found.push(manifest);
      if (enough(found)) break;
    }
    return found.reverse();
  }

  /** The versions with a lost-publish record, from one listing (the records are not read). */
  async lostVersions(cohort: string): Promise<Set<number>> {
    const keys = await this.blobs.list(lostPrefix(cohort));
    return new Set(
      keys
        .map((key) => LOST_KEY.exec(key)?.[1])
        .filter((v): v is string => v !== undefined)
        .map(Number),
    );
  }

  async manifest(cohort: string, version: number): Promise<Manifest | undefined> {
    const bytes = await this.blobs.get(`${versionPrefix(cohort, version)}manifest.json`);
    return bytes ? (JSON.parse(Buffer.from(bytes).toString('utf8')) as Manifest) : undefined;
  }

  async manifests(cohort: string): Promise<Manifest[]> {
    const versions = await this.versions(cohort);
    const found = await Promise.all(versions.map((v) => this.manifest(cohort, v)));
    return found.filter((m): m is Manifest => m !== undefined);
  }

  /**
   * The versions of a cohort that passed their checks (`status: published`) but lost the publish
   * race, so never became current, by version. See {@link publish}.
   */
  async lostPublishes(cohort: string): Promise<Map<number, LostPublish>> {
    const lost = new Map<number, LostPublish>();
    for (const key of await this.blobs.list(lostPrefix(cohort))) {
      const version = LOST_KEY.exec(key)?.[1];
      const bytes = version === undefined ? undefined : await this.blobs.get(key);
      if (bytes) lost.set(Number(version), JSON.parse(Buffer.from(bytes).toString('utf8')) as LostPublish);
    }
    return lost;
  }

  /**
   * The versions that were published and became current at their time (every `published` version
   * but those that lost the publish race), ascending: the history a new version is judged against.
   */
  async publishedManifests(cohort: string): Promise<Manifest[]> {
    const [manifests, lost] = await Promise.all([this.manifests(cohort), this.lostPublishes(cohort)]);
    return manifests.filter((m) => m.status === 'published' && !lost.has(m.version));
  }

  /** The version downstream sees, if any was ever published. */
  async current(cohort: string): Promise<number | undefined> {
    const bytes = await this.blobs.get(`${prefixOf(cohort)}current.json`);
    return bytes ? versionIn(bytes) : undefined;
  }

  /** Members of a version, in byte order. */
  async members(cohort: string, version: number): Promise<string[]> {
    const bytes = await this.blobs.get(`${versionPrefix(cohort, version)}members.parquet`);
    if (!bytes) throw new VersionNotFoundError(`cohort "${cohort}" has no version ${version}`);
    return this.codec.decode(bytes);
  }

  /** Writes a new version: members first, then the manifest that makes it exist. Never overwrites. */
  async write(manifest: Manifest, members: readonly string[]): Promise<void> {
    const prefix = versionPrefix(manifest.cohort, manifest.version);
    await this.blobs.create(`${prefix}members.parquet`, await this.codec.encode(members));
    await this.index.addAsOf(manifest.cohort, manifest.version, manifest.as_of);
    await this.blobs.create(`${prefix}manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`);
    await this.index.advance(manifest.cohort, manifest.version);
  }

  /**
   * Writes the holdout members of a version that is not complete yet (before `write`, which makes it
   * exist); returns the file's name. Never overwrites.
   */
  async writeHoldout(cohort: string, version: number, holdout: readonly string[]): Promise<string> {
    await this.blobs.create(`${versionPrefix(cohort, version)}${HOLDOUT_FILE}`, await this.codec.encode(holdout));
    return HOLDOUT_FILE;
  }

  /** The holdout members of a version, in byte order; undefined when it has no holdout. */
  async holdout(cohort: string, version: number): Promise<string[] | undefined> {
    const bytes = await this.blobs.get(`${versionPrefix(cohort, version)}${HOLDOUT_FILE}`);
    return bytes ? this.codec.decode(bytes) : undefined;
  }

  /** Every cohort with files in the store, in byte order. */
  async cohorts(): Promise<string[]> {
    const keys = await this.blobs.list(SNAPSHOTS_PREFIX);
    return [
      ...new Set(keys.map((key) => /^snapshots\/cohort=([^/]+)\//.exec(key)?.[1]).filter((c): c is string => c !== undefined)),
    ].sort();
  }

  /**
   * Replaces a complete version's members and manifest: erasure (SPEC section 5) is the one
   * thing that may, and nothing else calls this. Members first, so a reader never sees a
   * manifest promising fewer members than the file holds. The holdout file is rewritten when given.
   */
  async rewriteForErasure(manifest: Manifest, members: readonly string[], holdout?: readonly string[]): Promise<void> {
    if (!(await this.manifest(manifest.cohort, manifest.version)))
      throw new VersionNotFoundError(`cohort "${manifest.cohort}" has no version ${manifest.version}`);
    const prefix = versionPrefix(manifest.cohort, manifest.version);
    await this.blobs.put(`${prefix}members.parquet`, await this.codec.encode(members));
    if (holdout) await this.blobs.put(`${prefix}${HOLDOUT_FILE}`, await this.codec.encode(holdout));
    await this.blobs.put(`${prefix}manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`);
  }

  /**
   * Moves `current.json` to a complete, published version, by compare-and-swap: only from the
   * version its manifest was computed against (`previous_version`), so two runs can never both
   * move current and current never moves backwards. Publishing the version current already is
   * does nothing (a retried step). A lost race is re-read and decided again; the other run having
   * won raises {@link CurrentMovedError}, a write still contended after a few attempts
   * ConcurrentUpdateError (transient: retry the step). A version that lost for good keeps its
   * manifest (never rewritten) and gets a {@link LostPublish} record beside the version folders
   * (`snapshots/cohort=<id>/lost-publish/version=<N>.json`), so history, the report and later runs
   * do not take it for a version that was published.
   */
  async publish(cohort: string, version: number): Promise<void> {
    const manifest = await this.manifest(cohort, version);
    if (!manifest) throw new VersionNotFoundError(`cohort "${cohort}" has no complete version ${version}`);
    if (manifest.status !== 'published')
      throw new VersionNotFoundError(`cohort "${cohort}" version ${version} is ${manifest.status}, not published`);
    const base = manifest.previous_version ?? null;
    const key = `${prefixOf(cohort)}current.json`;
    for (let attempt = 1; ; attempt++) {
      const seen = await this.blobs.getWithEtag(key);
      const at = seen ? versionIn(seen.body) : null;
      if (at === version) return this.markNeverCurrent(cohort, manifest);
      if (at !== base) {
        if (!(await this.wasCurrent(cohort, version, at))) {
          await this.recordLost({
            cohort,
            version,
            computed_against: base,
            current_version: at,
            run_id: manifest.lineage?.run_id ?? '',
            at: new Date().toISOString(),
          });
        }
        throw new CurrentMovedError(
          `cohort "${cohort}" is now at version ${at ?? 'none'}, not ${base ?? 'none'} as version ${version} was computed against; current stays at ${at ?? 'none'}`,
        );
      }
      try {
        await this.blobs.putIfUnchanged(key, `${JSON.stringify({ version })}\n`, seen?.etag);
        await this.markNeverCurrent(cohort, manifest);
        return;
      } catch (error) {
        if (!(error instanceof ConcurrentUpdateError) || attempt >= PUBLISH_ATTEMPTS) throw error;
        await pause(10 * 2 ** attempt);
      }
    }
  }

  /**
   * Once `current.json` is at `current` (moved there from its `previous_version`): every published
   * version between the two never became current and gets a lost-publish record. Such a version was
   * left by a run that died between its manifest and `current.json` and was passed by a later
   * as-of; it never can become current now (compare-and-swap moves current only from a version's
   * `previous_version`), so history must not call it published. Versions below the previous
   * current were judged when current moved past them, so only the versions since are read.
   */
  private async markNeverCurrent(cohort: string, current: Manifest): Promise<void> {
    const base = current.previous_version ?? 0;
    if (current.version - base <= 1) return;
    const orphans: Manifest[] = [];
    for await (const m of this.manifestsNewestFirst(cohort, { below: current.version, above: base }))
      if (m.status === 'published') orphans.push(m);
    if (orphans.length === 0) return;
    const lost = await this.lostVersions(cohort);
    const at = new Date().toISOString();
    for (const m of orphans.filter((o) => !lost.has(o.version)).reverse()) {
      await this.recordLost({
        cohort,
        version: m.version,
        computed_against: m.previous_version,
        current_version: current.version,
        run_id: m.lineage?.run_id ?? current.lineage?.run_id ?? '',
        at,
      });
    }
  }

  /**
   * Whether a version was current once: a later version was computed against it. Current only
   * moves forward and only from a version's `previous_version`, so if it ever left this version,
   * the version it moved to is at most `current`: only the versions up to it are read.
   */
  private async wasCurrent(cohort: string, version: number, current: number | null): Promise<boolean> {
    const range = current === null ? { above: version } : { below: current + 1, above: version };
    for await (const m of this.manifestsNewestFirst(cohort, range)) if (m.previous_version === version) return true;
    return false;
  }

  /** Writes the record of a lost publish once; a retried step finds it written. */
  private async recordLost(lost: LostPublish): Promise<void> {
    try {
      await this.blobs.create(`${lostPrefix(lost.cohort)}version=${lost.version}.json`, `${JSON.stringify(lost, null, 2)}\n`);
    } catch (error) {
      if (!(error instanceof BlobExistsError)) throw error;
    }
  }

  /** Where a version's files live. */
  locate(cohort: string, version: number): string {
    return this.blobs.locate(versionPrefix(cohort, version));
  }
}

/** The complete versions (those with a manifest) among a cohort's keys, ascending. */
function versionsIn(keys: readonly string[]): number[] {
  return keys
    .map((key) => VERSION_KEY.exec(key)?.[1])
    .filter((v): v is string => v !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** The version a `current.json` names. */
function versionIn(bytes: Uint8Array): number {
  return (JSON.parse(Buffer.from(bytes).toString('utf8')) as { version: number }).version;
}
