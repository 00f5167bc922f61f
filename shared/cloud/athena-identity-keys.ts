import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { IDENTITY_KEYS_PREFIX, IDENTITY_KEYS_STATE_KEY } from '../bucket-layout.ts';
import type { IdentityOfLake, ListedFile, ListedSource } from '../checks/kept-source-checks.ts';
import { compileIdentityChecks, compileIdentityKeys } from '../checks/source-query.ts';
import { readSourceCheckRows, type SourceCheckRow } from '../checks/source-rows.ts';
import { athenaDialect } from '../compiler/athena-dialect.ts';
import { identifier, stringLiteral } from '../compiler/sql-text.ts';
import type { BlobStore, QueryEngine } from '../ports.ts';
import { IDENTITY_KEYS_TABLE } from './athena-tile-tables.ts';
import { deleteObjects, deletePrefix, objectsUnder } from './s3-prefix.ts';

/**
 * A normalized user id as the kept keys hold it: its MD5 digest (lowercase hex, as the local
 * twin's DuckDB `md5`), so no kept file names a user id.
 */
export const athenaIdentityKeyOf = (column: string) => `lower(to_hex(md5(to_utf8(${column}))))`;

/** What `checks/identity-keys/state.json` records: which version of the keys is whole, and the map's `identity` rows. */
interface KeptIdentityKeys {
  /** A digest of the identity files (key, size, ETag), the queries and the engine. */
  readonly fingerprint: string;
  /** The `version=` partition of {@link IDENTITY_KEYS_TABLE} holding the keys. */
  readonly version: string;
  /** The `identity` rows of the source checks (keys and conflicts per source), counted when the keys were kept. */
  readonly rows: readonly SourceCheckRow[];
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
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const byKey = (a: ListedFile, b: ListedFile) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * The identity map's keys kept in the cloud for the source checks (issue 15: a tick that computes
 * a part joins them instead of reading the map, M bytes), the twin of local-identity-keys.ts:
 * one Parquet copy of the distinct keys (source, MD5 of the normalized user id), written by
 * `UNLOAD` into `checks/identity-keys/version=<v>/` of the snapshots bucket and read through the
 * Glue table {@link IDENTITY_KEYS_TABLE} (`version` injected), keyed by the listed identity files
 * (key, size, ETag) and the queries. Built again only when they change:
 *
 * - the new version's folder is emptied of any leftover (a crash midway), then written;
 * - the map's `identity` rows are counted (one more statement);
 * - `state.json` is written after the data: a crash before it leaves the keys to be built again;
 * - every other version's files are deleted after it.
 *
 * The kept relation reads `SELECT DISTINCT`, so two builds racing into one folder double no key.
 */
export function athenaIdentityKeys(ports: AthenaIdentityKeysPorts): (listed: ListedSource) => Promise<IdentityOfLake> {
  const table = `${identifier(ports.database)}.${identifier(IDENTITY_KEYS_TABLE)}`;
  const named = compileIdentityKeys(athenaDialect, 'identities', athenaIdentityKeyOf);
  const checks = compileIdentityChecks(athenaDialect, 'identities');
  const relationOf = (version: string) => `(SELECT DISTINCT source, user_key FROM ${table} WHERE version = ${stringLiteral(version)})`;
  return async (listed) => {
    const files = [...listed.identities].sort(byKey).map((f) => [f.key, String(f.size), f.version]);
    const fingerprint = sha256(JSON.stringify({ engine: ports.engine.name, files, keys: named, checks }));
    const state = await readState(ports.blobs);
    if (state?.fingerprint === fingerprint)
      return { keys: { relation: relationOf(state.version), keyOf: athenaIdentityKeyOf }, rows: state.rows };
    const version = fingerprint.slice(0, 16);
    const folder = `${IDENTITY_KEYS_PREFIX}version=${version}/`;
    await deletePrefix(ports.s3, ports.bucket, folder, 'identity keys left by an unfinished build');
    const identities = listed.relations.identities;
    await ports.unload(compileIdentityKeys(athenaDialect, identities, athenaIdentityKeyOf), `s3://${ports.bucket}/${folder}`);
    const rows = readSourceCheckRows(await ports.engine.rows(compileIdentityChecks(athenaDialect, identities)));
    await ports.blobs.put(IDENTITY_KEYS_STATE_KEY, `${JSON.stringify({ fingerprint, version, rows } satisfies KeptIdentityKeys)}\n`);
    const older: string[] = [];
    for await (const page of objectsUnder(ports.s3, ports.bucket, IDENTITY_KEYS_PREFIX))
      older.push(...page.map((o) => o.key).filter((key) => key !== IDENTITY_KEYS_STATE_KEY && !key.startsWith(folder)));
    for (let i = 0; i < older.length; i += 1_000)
      await deleteObjects(ports.s3, ports.bucket, older.slice(i, i + 1_000), 'identity keys of an older map');
    return { keys: { relation: relationOf(version), keyOf: athenaIdentityKeyOf }, rows };
  };
}

/** The kept state; undefined when missing or unreadable (the keys are built again). */
async function readState(blobs: BlobStore): Promise<KeptIdentityKeys | undefined> {
  const bytes = await blobs.get(IDENTITY_KEYS_STATE_KEY);
  if (bytes === undefined) return undefined;
  try {
    const state = JSON.parse(new TextDecoder().decode(bytes)) as Partial<KeptIdentityKeys>;
    const valid = typeof state.fingerprint === 'string' && typeof state.version === 'string' && /^[0-9a-f]{16}$/.test(state.version);
    return valid && Array.isArray(state.rows) ? (state as KeptIdentityKeys) : undefined;
  } catch {
    return undefined;
  }
}
