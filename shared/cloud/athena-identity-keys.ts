import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { IDENTITY_KEYS_PREFIX, IDENTITY_KEYS_STATE_KEY } from '../bucket-layout.ts';
import type { IdentityOfLake, ListedFile, ListedSource } from '../checks/kept-source-checks.ts';
import { compileIdentityChecks, compileIdentityKeys } from '../checks/source-query.ts';
import { readSourceCheckRows, type SourceCheckRow } from '../checks/source-rows.ts';
import { athenaDialect } from '../compiler/athena-dialect.ts';
import { identifier, stringLiteral } from '../compiler/sql-text.ts';
import { type BlobStore, ConcurrentUpdateError, type QueryEngine } from '../ports.ts';
import { IDENTITY_KEYS_TABLE } from './athena-tile-tables.ts';
import { buildVersion, isKeyVersion, KEPT_KEYS_GRACE_MS, keptVersions, type RetiredVersions } from './kept-key-versions.ts';
import { deleteObjects, objectsUnder } from './s3-prefix.ts';

/**
 * A normalized user id as the kept keys hold it: its MD5 digest (lowercase hex, as the local
 * twin's DuckDB `md5`), so no kept file names a user id.
 */
export const athenaIdentityKeyOf = (column: string) => `lower(to_hex(md5(to_utf8(${column}))))`;

/** What `checks/identity-keys/state.json` records: which version of the keys is whole, and the map's `identity` rows. */
interface KeptIdentityKeys {
  /** A digest of the identity files (key, size, ETag), the queries and the engine. */
  readonly fingerprint: string;
  /** The `version=` partition of {@link IDENTITY_KEYS_TABLE} holding the keys (kept-key-versions.ts). */
  readonly version: string;
  /** The `identity` rows of the source checks (keys and conflicts per source), counted when the keys were kept. */
  readonly rows: readonly SourceCheckRow[];
  /** Earlier versions still kept, each with when it stopped being current (a run may still read it). */
  readonly retired?: RetiredVersions;
}

/** What {@link athenaIdentityKeys} runs on. */
export interface AthenaIdentityKeysPorts {
  /** Counts the map's `identity` rows (its name is part of the fingerprint). */
  readonly engine: QueryEngine;
  /** Writes the keys' Parquet files: Athena's `UNLOAD` (AthenaQueryRunner.unloadToParquet). */
  readonly unload: (sql: string, s3Folder: string) => Promise<unknown>;
  readonly s3: S3Client;
  /** The snapshots bucket's name: the keys under {@link IDENTITY_KEYS_PREFIX}. */
  readonly bucket: string;
  /** The snapshots bucket, as blobs (the state object). */
  readonly blobs: BlobStore;
  /** The Glue database holding {@link IDENTITY_KEYS_TABLE}. */
  readonly database: string;
  /** The clock (ms since the epoch) of the versions' build times and retirements. @default Date.now */
  readonly now?: () => number;
  /** How long a version no longer current stays. @default KEPT_KEYS_GRACE_MS */
  readonly graceMs?: number;
}

/** Attempts at an `UNLOAD` whose folder another build took (Athena's HIVE_PATH_ALREADY_EXISTS). */
const UNLOAD_ATTEMPTS = 3;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const byKey = (a: ListedFile, b: ListedFile) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * The identity map's keys kept in the cloud for the source checks (issue 15: a tick that computes
 * a part joins them instead of reading the map, M bytes), the twin of local-identity-keys.ts:
 * one Parquet copy of the distinct keys (source, MD5 of the normalized user id), written by
 * `UNLOAD` into `checks/identity-keys/version=<v>/` of the snapshots bucket and read through the
 * Glue table {@link IDENTITY_KEYS_TABLE} (`version` injected), keyed by the listed identity files
 * (key, size, ETag) and the queries. Built again only when they change, safe with runs at once
 * (a realtime tick beside the daily refresh, a retried Plan):
 *
 * - every build writes a folder of its own (kept-key-versions.ts: the fingerprint, the build's
 *   start and a random part), so no build deletes or writes into files another run reads; an
 *   `UNLOAD` that finds its folder taken builds into a fresh one;
 * - the map's `identity` rows are counted (one more statement);
 * - `state.json` is written after the data: a crash before it leaves the keys to be built again;
 * - the other versions' files are deleted after it, only once the grace period passed since they
 *   stopped being current (or, for a version no state named, since its build began), so a run
 *   still reading the version it found, or a build that lost the race for the state, keeps its files.
 *   A run whose keys are current deletes a retired version once due, without waiting for a build.
 *
 * The kept relation reads `SELECT DISTINCT`.
 */
export function athenaIdentityKeys(ports: AthenaIdentityKeysPorts): (listed: ListedSource) => Promise<IdentityOfLake> {
  const table = `${identifier(ports.database)}.${identifier(IDENTITY_KEYS_TABLE)}`;
  const named = compileIdentityKeys(athenaDialect, 'identities', athenaIdentityKeyOf);
  const checks = compileIdentityChecks(athenaDialect, 'identities');
  const relationOf = (version: string) => `(SELECT DISTINCT source, user_key FROM ${table} WHERE version = ${stringLiteral(version)})`;
  const now = ports.now ?? Date.now;
  const graceMs = ports.graceMs ?? KEPT_KEYS_GRACE_MS;
  return async (listed) => {
    const files = [...listed.identities].sort(byKey).map((f) => [f.key, String(f.size), f.version]);
    const fingerprint = sha256(JSON.stringify({ engine: ports.engine.name, files, keys: named, checks }));
    const state = await readState(ports.blobs);
    if (state?.fingerprint === fingerprint) {
      const at = now();
      if (Object.values(state.retired ?? {}).some((since) => at - since > graceMs)) await removeRetired(ports, state, at, graceMs);
      return { keys: { relation: relationOf(state.version), keyOf: athenaIdentityKeyOf }, rows: state.rows };
    }
    const identities = listed.relations.identities;
    const version = await unloadKeys(ports, compileIdentityKeys(athenaDialect, identities, athenaIdentityKeyOf), fingerprint, now);
    const rows = readSourceCheckRows(await ports.engine.rows(compileIdentityChecks(athenaDialect, identities)));
    const found = await versionsFound(ports);
    // The state as it is now too: another run may have replaced the one read at first meanwhile.
    const latest = await readState(ports.blobs);
    const at = now();
    const retired: Record<string, number> = { ...state?.retired, ...latest?.retired };
    for (const s of [state, latest]) if (s !== undefined) retired[s.version] = at;
    const kept = keptVersions([...found.keys()], version, retired, at, graceMs);
    const record: KeptIdentityKeys = { fingerprint, version, rows, retired: kept.retired };
    await ports.blobs.put(IDENTITY_KEYS_STATE_KEY, `${JSON.stringify(record)}\n`);
    await deleteVersions(ports, found, kept.remove);
    return { keys: { relation: relationOf(version), keyOf: athenaIdentityKeyOf }, rows };
  };
}

/** A kept key's version: `version=<v>/...` under {@link IDENTITY_KEYS_PREFIX}. */
const VERSION_OF = /^version=([^/]+)\//;

/** Every version's files under {@link IDENTITY_KEYS_PREFIX}, by version. */
async function versionsFound(ports: AthenaIdentityKeysPorts): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  for await (const page of objectsUnder(ports.s3, ports.bucket, IDENTITY_KEYS_PREFIX))
    for (const { key } of page) {
      const v = VERSION_OF.exec(key.slice(IDENTITY_KEYS_PREFIX.length))?.[1];
      if (v === undefined) continue;
      if (!found.has(v)) found.set(v, []);
      found.get(v)?.push(key);
    }
  return found;
}

/** Deletes the files of `versions`. */
async function deleteVersions(ports: AthenaIdentityKeysPorts, found: ReadonlyMap<string, string[]>, versions: readonly string[]) {
  const files = versions.flatMap((v) => found.get(v) ?? []);
  for (let i = 0; i < files.length; i += 1_000)
    await deleteObjects(ports.s3, ports.bucket, files.slice(i, i + 1_000), 'identity keys of an older map');
}

/**
 * A run whose keys are current, finding a retired version past the grace period: its files (and any
 * other version past it, such as a crash's leftover) are deleted, then the state stops listing them,
 * by compare-and-swap, only while it still names the same keys (a run that built newer ones
 * meanwhile cleans up itself). Without it an older map's keys stayed until the map changed again.
 */
async function removeRetired(ports: AthenaIdentityKeysPorts, state: KeptIdentityKeys, at: number, graceMs: number): Promise<void> {
  const found = await versionsFound(ports);
  const kept = keptVersions([...found.keys()], state.version, state.retired ?? {}, at, graceMs);
  await deleteVersions(ports, found, kept.remove);
  const current = await ports.blobs.getWithEtag(IDENTITY_KEYS_STATE_KEY);
  const latest = current === undefined ? undefined : parseState(current.body);
  if (current === undefined || latest?.fingerprint !== state.fingerprint || latest.version !== state.version) return;
  const record: KeptIdentityKeys = { ...latest, retired: kept.retired };
  try {
    await ports.blobs.putIfUnchanged(IDENTITY_KEYS_STATE_KEY, `${JSON.stringify(record)}\n`, current.etag);
  } catch (error) {
    if (!(error instanceof ConcurrentUpdateError)) throw error;
  }
}

/** Unloads the keys into a folder of this build's own, another one when that is taken; its version. */
async function unloadKeys(ports: AthenaIdentityKeysPorts, sql: string, fingerprint: string, now: () => number): Promise<string> {
  for (let attempt = 1; ; attempt += 1) {
    const version = buildVersion(fingerprint, now());
    try {
      await ports.unload(sql, `s3://${ports.bucket}/${IDENTITY_KEYS_PREFIX}version=${version}/`);
      return version;
    } catch (error) {
      if (attempt >= UNLOAD_ATTEMPTS || !String((error as Error)?.message).includes('HIVE_PATH_ALREADY_EXISTS')) throw error;
    }
  }
}

/** The kept state; undefined when missing or unreadable (the keys are built again). */
async function readState(blobs: BlobStore): Promise<KeptIdentityKeys | undefined> {
  const bytes = await blobs.get(IDENTITY_KEYS_STATE_KEY);
  return bytes === undefined ? undefined : parseState(bytes);
}

/** The kept state from its bytes; undefined when unreadable. */
function parseState(bytes: Uint8Array): KeptIdentityKeys | undefined {
  try {
    const state = JSON.parse(new TextDecoder().decode(bytes)) as Partial<KeptIdentityKeys>;
    const valid = typeof state.fingerprint === 'string' && typeof state.version === 'string' && isKeyVersion(state.version);
    if (!valid || !Array.isArray(state.rows)) return undefined;
    const retired = Object.entries(state.retired ?? {}).filter(([v, at]) => isKeyVersion(v) && Number.isFinite(at));
    return { ...(state as KeptIdentityKeys), retired: Object.fromEntries(retired) };
  } catch {
    return undefined;
  }
}
