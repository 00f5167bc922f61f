import { randomUUID } from 'node:crypto';
import type { Manifest } from '../store/manifest.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';
import { type ErasureRecord, recordName, writeErasureRecord } from './erasure-records.ts';
import { type SweepOutcome, sweepPerson } from './erase-sweep.ts';
import { eraseFromLists } from './list-erasure.ts';
import { dropPersonRows } from './person-csv.ts';
import { idForms, loadKeys, personHash, saltFingerprint } from './person-hash.ts';
import type { PrivacyPorts } from './ports.ts';
import { loadPrivacyLists } from './screen.ts';
import { EXPORTS_PREFIX } from '../bucket-layout.ts';

/** `cohorts forget` was given something that is not a person id. */
export class InvalidPersonIdError extends Error {
  override readonly name = 'InvalidPersonIdError';
}

/** What one deletion request did; names the record by its hash, never the person. */
export interface ErasureOutcome {
  /** The record's short name (first 12 hex digits of the salted hash). */
  readonly record: string;
  /** Stored versions (members and manifest) rewritten without the person. */
  readonly versions_rewritten: number;
  readonly cohorts: readonly string[];
  readonly new_versions: readonly { readonly cohort: string; readonly version: number }[];
  readonly exports_rewritten: number;
  /** What the last pass over every other file did: see {@link sweepPerson}. */
  readonly swept: SweepOutcome;
  /** Tile files rewritten without the person's identity keys (tile days, contested copies). */
  readonly tiles_rewritten: number;
  /** Uploaded lists rewritten without the person's lines. */
  readonly lists_rewritten: readonly string[];
}

/**
 * Erasure of one person (SPEC section 5, the one exception to immutability). In this order:
 * 1. the audit record (salted hashes of the id's forms, never the id), so every refresh from now
 *    on leaves the person out even if the rest is interrupted;
 * 2. per cohort whose current version held the person, a new published version without them
 *    (trigger `erasure`), so downstream systems that follow version numbers see the change;
 * 3. every stored version rewritten in place without them (members, and size/entered/exited in
 *    the manifest, which also records the erasure as a count);
 * 4. every export file (CSV with a person_id column, Parquet person lists) rewritten, and the
 *    counts of `latest.json`;
 * 5. the tiles (PrivacyPorts.tiles) rewritten without the rows of the person's identity keys;
 * 6. every other file swept ({@link sweepPerson}): crash leftovers, incomplete versions, any list;
 *    and the uploaded lists (PrivacyPorts.lists) rewritten without the person's lines;
 * 7. the record completed. Running it again for the same person finds nothing left to do.
 */
export async function forgetPerson(personId: string, ports: PrivacyPorts, source: string): Promise<ErasureOutcome> {
  const forms = idForms(personId);
  if (forms.length === 0) throw new InvalidPersonIdError('a person id to forget must not be empty');
  // Records made with a key that is not at hand stop here, before a new key could be made.
  await loadPrivacyLists(ports);
  const salt = ((await loadKeys(ports, true)) as readonly string[])[0] as string;
  const now = () => (ports.now ?? (() => new Date()))().toISOString();
  const drop = new Set(forms);
  const base: ErasureRecord = {
    person_hashes: forms.map((form) => personHash(salt, form)),
    salt_fingerprint: saltFingerprint(salt),
    source,
    requested_at: now(),
    completed_at: null,
    rewritten: { versions: 0, exports: 0 },
    new_versions: [],
  };
  await writeErasureRecord(ports, base);
  const record = recordName(base.person_hashes[0] as string);
  const erasureId = `erasure-${record}-${randomUUID().slice(0, 8)}`;
  let versions = 0;
  const touched: string[] = [];
  const newVersions: { cohort: string; version: number }[] = [];
  for (const cohort of await ports.store.cohorts()) {
    const rewritten = await eraseFromCohort(cohort, drop, ports, { at: now(), record, erasureId });
    versions += rewritten.versions;
    if (rewritten.versions > 0 || rewritten.newVersion !== undefined) touched.push(cohort);
    if (rewritten.newVersion !== undefined) newVersions.push({ cohort, version: rewritten.newVersion });
  }
  const exports = ports.exports ? await eraseFromExports(drop, ports) : 0;
  const tiles = ports.tiles ? (await ports.tiles.forget(forms)).length : 0;
  const swept = await sweepPerson(drop, ports);
  const lists = ports.lists ? await eraseFromLists(ports.lists, drop) : [];
  const rewritten = {
    versions,
    exports,
    other_files: swept.rewritten.length,
    leftovers_deleted: swept.deleted.length,
    files_left: swept.left.length + swept.unreadable.length,
    ...(ports.tiles ? { tiles: tiles } : {}),
    ...(ports.lists ? { lists: lists.length } : {}),
  };
  await writeErasureRecord(ports, {
    ...base,
    completed_at: now(),
    rewritten,
    ...(swept.leftKeys.length > 0 ? { left_files: swept.leftKeys } : {}),
    new_versions: newVersions,
  });
  return {
    record,
    versions_rewritten: versions,
    cohorts: touched,
    new_versions: newVersions,
    exports_rewritten: exports,
    swept,
    tiles_rewritten: tiles,
    lists_rewritten: lists,
  };
}

async function eraseFromCohort(
  cohort: string,
  drop: ReadonlySet<string>,
  ports: PrivacyPorts,
  at: { readonly at: string; readonly record: string; readonly erasureId: string },
): Promise<{ versions: number; newVersion?: number }> {
  const { store } = ports;
  const manifests = await store.manifests(cohort);
  const original = new Map<number, string[]>();
  for (const manifest of manifests) original.set(manifest.version, await store.members(cohort, manifest.version));
  const held = (version: number | null) => (version === null ? [] : (original.get(version) ?? []).filter((id) => drop.has(id)));
  // Downstream first: the current version's members without the person, as a new version.
  const current = await store.current(cohort);
  const currentManifest = manifests.find((m) => m.version === current);
  let newVersion: number | undefined;
  if (currentManifest && held(currentManifest.version).length > 0) {
    newVersion = await store.nextVersion(cohort);
    const members = (original.get(currentManifest.version) ?? []).filter((id) => !drop.has(id));
    const { erasure: _rewrittenBefore, experiment: _split, ...published } = currentManifest;
    const experiment = await splitWithout(currentManifest, drop, store);
    if (experiment) await store.writeHoldout(cohort, newVersion, experiment.holdout);
    const manifest: Manifest = {
      ...published,
      ...(experiment ? { experiment: experiment.split } : {}),
      version: newVersion,
      created_at: at.at,
      trigger: 'erasure',
      rationale: `deletion request (erasure record ${at.record}): version ${currentManifest.version} without the people it names`,
      size: members.length,
      previous_version: currentManifest.version,
      entered: 0,
      exited: 0,
      checks: [],
      lineage: { ...currentManifest.lineage, run_id: at.erasureId },
    };
    await store.write(manifest, members);
    await store.publish(cohort, newVersion);
  }
  let versions = 0;
  const kept = (version: number) => (original.get(version) ?? []).filter((id) => !drop.has(id));
  for (const manifest of manifests) {
    const members = kept(manifest.version);
    const stored = original.get(manifest.version)?.length ?? 0;
    const previous = manifest.previous_version;
    const change = changeWithout(manifest, members, previous !== null && original.has(previous) ? kept(previous) : undefined);
    // A forget killed between a version's members and its manifest left a manifest counting more
    // members than the file holds: rewritten again, so a second forget finishes the first one.
    const interrupted = manifest.size !== stored;
    if (held(manifest.version).length === 0 && !interrupted && change.entered === manifest.entered && change.exited === manifest.exited)
      continue;
    const erasure = manifest.erasure;
    const experiment = await splitWithout(manifest, drop, store);
    await store.rewriteForErasure(
      {
        ...manifest,
        ...(experiment ? { experiment: experiment.split } : {}),
        size: members.length,
        ...change,
        erasure: {
          removed: (erasure?.removed ?? 0) + manifest.size - members.length,
          requests: (erasure?.requests ?? 0) + 1,
          last_at: at.at,
        },
      },
      members,
      experiment?.holdout,
    );
    versions++;
  }
  return newVersion === undefined ? { versions } : { versions, newVersion };
}

/**
 * A version's entered and exited once the people are dropped (SPEC: the change against the previous
 * published version), from the member lists without them, so the counts are right however often a
 * forget ran and wherever one died. A previous version that is not stored: the manifest's counts,
 * less the people dropped from this one.
 */
function changeWithout(
  manifest: Manifest,
  members: readonly string[],
  before: readonly string[] | undefined,
): { entered: number; exited: number } {
  if (manifest.previous_version === null) return { entered: members.length, exited: 0 };
  if (before === undefined) return { entered: manifest.entered - (manifest.size - members.length), exited: manifest.exited };
  const now = new Set(members);
  const then = new Set(before);
  return { entered: members.filter((id) => !then.has(id)).length, exited: before.filter((id) => !now.has(id)).length };
}

/** A version's holdout split without the people dropped: the holdout list and the manifest's split. */
async function splitWithout(
  manifest: Manifest,
  drop: ReadonlySet<string>,
  store: SnapshotStore,
): Promise<{ holdout: string[]; split: NonNullable<Manifest['experiment']> } | undefined> {
  if (!manifest.experiment) return undefined;
  const holdout = ((await store.holdout(manifest.cohort, manifest.version)) ?? []).filter((id) => !drop.has(id));
  const size = (await store.members(manifest.cohort, manifest.version)).filter((id) => !drop.has(id)).length;
  return { holdout, split: { ...manifest.experiment, holdout_size: holdout.length, treatment_size: size - holdout.length } };
}

/** The Parquet person lists exports hold (the codec's one person_id column, so a re-encode loses nothing). */
export const EXPORT_PARQUET_LIST = /\/(members|entered|exited|treatment|holdout)\.parquet$/;
const EXPORT_CSV_LIST = /^(exports\/cohort=[^/]+\/version=\d+\/)(members|entered|exited)\.csv$/;

/**
 * Rewrites every export file that holds the person (CSV with a person_id column, Parquet person
 * lists), then the counts of each `latest.json` whose version's lists hold other numbers of rows
 * (counted, not decremented, so a forget that died before `latest.json` is finished by the next one);
 * returns the files rewritten.
 */
async function eraseFromExports(drop: ReadonlySet<string>, ports: PrivacyPorts): Promise<number> {
  const exports = ports.exports;
  if (!exports) return 0;
  let rewritten = 0;
  const rowsOf = new Map<string, Partial<Record<'members' | 'entered' | 'exited', number>>>();
  for (const key of await exports.list(EXPORTS_PREFIX)) {
    const bytes = await exports.get(key);
    if (!bytes) continue;
    if (key.endsWith('.csv')) {
      const result = dropPersonRows(Buffer.from(bytes).toString('utf8'), (id) => drop.has(id));
      if (result && result.removed > 0) {
        await exports.put(key, result.text);
        rewritten++;
      }
      const list = EXPORT_CSV_LIST.exec(key);
      if (result && list) rowsOf.set(list[1] as string, { ...rowsOf.get(list[1] as string), [list[2] as string]: result.kept });
    } else if (EXPORT_PARQUET_LIST.test(key)) {
      const members = await ports.codec.decode(bytes);
      const kept = members.filter((id) => !drop.has(id));
      if (kept.length < members.length) {
        await exports.put(key, await ports.codec.encode(kept));
        rewritten++;
      }
    }
  }
  for (const key of (await exports.list(EXPORTS_PREFIX)).filter((k) => k.endsWith('/latest.json'))) {
    const latest = JSON.parse(Buffer.from((await exports.get(key)) as Uint8Array).toString('utf8')) as Record<string, unknown>;
    const rows = rowsOf.get(`${key.slice(0, -'latest.json'.length)}version=${String(latest.version)}/`);
    if (!rows) continue;
    const counted = (field: 'size' | 'entered' | 'exited', list: 'members' | 'entered' | 'exited') =>
      typeof latest[field] === 'number' && rows[list] !== undefined && rows[list] !== latest[field] ? { [field]: rows[list] } : {};
    const corrected = { ...counted('size', 'members'), ...counted('entered', 'entered'), ...counted('exited', 'exited') };
    if (Object.keys(corrected).length === 0) continue;
    await exports.put(key, `${JSON.stringify({ ...latest, ...corrected }, null, 2)}\n`);
  }
  return rewritten;
}
