import { setTimeout as pause } from 'node:timers/promises';
import { BlobExistsError, type BlobStore, ConcurrentUpdateError, type MembersCodec } from '../ports.ts';
import type { LostPublish, Manifest } from './manifest.ts';
import { SNAPSHOTS_PREFIX } from '../bucket-layout.ts';
import { memoized } from './members-memo.ts';

/** Compare-and-swap attempts of one publish before its ConcurrentUpdateError reaches the caller. */
const PUBLISH_ATTEMPTS = 5;

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

  constructor(
    private readonly blobs: BlobStore,
    codec: MembersCodec,
  ) {
    this.codec = memoized(codec);
  }

  /** Complete versions of a cohort, ascending. */
  async versions(cohort: string): Promise<number[]> {
    const keys = await this.blobs.list(prefixOf(cohort));
    return keys
      .map((key) => VERSION_KEY.exec(key)?.[1])
      .filter((v): v is string => v !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  /**
   * The number the next version gets: one past every version ever started, complete or not, so
   * files a crashed write left behind are never reused (they never became current either).
   */
  async nextVersion(cohort: string): Promise<number> {
    const keys = await this.blobs.list(prefixOf(cohort));
    const started = keys.map((key) => /\/version=(\d+)\//.exec(key)?.[1]).filter((v): v is string => v !== undefined);
    return Math.max(0, ...started.map(Number)) + 1;
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
    await this.blobs.create(`${prefix}manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`);
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
      if (at === version) return this.markNeverCurrent(cohort, version, manifest.lineage?.run_id ?? '');
      if (at !== base) {
        if (!(await this.wasCurrent(cohort, version))) {
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
        await this.markNeverCurrent(cohort, version, manifest.lineage?.run_id ?? '');
        return;
      } catch (error) {
        if (!(error instanceof ConcurrentUpdateError) || attempt >= PUBLISH_ATTEMPTS) throw error;
        await pause(10 * 2 ** attempt);
      }
    }
  }

  /**
   * Once `current.json` is at `current`: every published version below it that never became
   * current (not on the chain of `previous_version` from current back) gets a lost-publish record.
   * Such a version was left by a run that died between its manifest and `current.json` and was
   * passed by a later as-of; it never can become current now (compare-and-swap moves current only
   * from a version's `previous_version`), so history must not call it published. A version
   * computed against `current` itself is some other run's, still on its way, and is left alone.
   */
  private async markNeverCurrent(cohort: string, current: number, runId: string): Promise<void> {
    const manifests = await this.manifests(cohort);
    const byVersion = new Map(manifests.map((m) => [m.version, m]));
    const chain = new Set<number>();
    for (let at: number | null | undefined = current; at != null && !chain.has(at); at = byVersion.get(at)?.previous_version) chain.add(at);
    const orphans = manifests.filter(
      (m) => m.status === 'published' && m.version < current && !chain.has(m.version) && m.previous_version !== current,
    );
    if (orphans.length === 0) return;
    const lost = await this.lostPublishes(cohort);
    const at = new Date().toISOString();
    for (const m of orphans.filter((o) => !lost.has(o.version))) {
      await this.recordLost({
        cohort,
        version: m.version,
        computed_against: m.previous_version,
        current_version: current,
        run_id: m.lineage?.run_id ?? runId,
        at,
      });
    }
  }

  /** Whether a version was current once: a later version was computed against it. */
  private async wasCurrent(cohort: string, version: number): Promise<boolean> {
    return (await this.manifests(cohort)).some((m) => m.previous_version === version);
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

/** The version a `current.json` names. */
function versionIn(bytes: Uint8Array): number {
  return (JSON.parse(Buffer.from(bytes).toString('utf8')) as { version: number }).version;
}
