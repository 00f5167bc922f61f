import type { PrivacyPorts } from './ports.ts';
import { ERASURES_PREFIX } from '../bucket-layout.ts';

/**
 * The audit record of a deletion request. It keeps salted hashes of the person's id forms, never
 * the id; future refreshes leave out every member whose hash is in a record.
 */
export interface ErasureRecord {
  /** HMAC-SHA256 (salted) of each form of the id (as written, normalized). */
  readonly person_hashes: readonly string[];
  /** Which salt made the hashes (a fingerprint, never the salt). */
  readonly salt_fingerprint: string;
  /** How the request came: `cli` (`cohorts forget`) or `deletion-request:<key>`. */
  readonly source: string;
  readonly requested_at: string;
  /** When every stored version and export was rewritten; null while that is under way. */
  readonly completed_at: string | null;
  /**
   * Stored version files and export files rewritten without the person; with the sweep of every
   * other file (absent in records made before it): other files rewritten, crash leftovers deleted,
   * and files left holding the person or unreadable (named by `cohorts forget`).
   */
  readonly rewritten: {
    readonly versions: number;
    readonly exports: number;
    readonly other_files?: number;
    readonly leftovers_deleted?: number;
    readonly files_left?: number;
    /** Tile files rewritten without the person's identity keys (where the world keeps tiles). */
    readonly tiles?: number;
    /** Uploaded lists rewritten without the person's lines (where the world reads lists). */
    readonly lists?: number;
  };
  /**
   * Keys of the files the erasure left holding the person or could not read (not lists it can
   * rewrite): every privacy check reads them again and reports them until they are clean.
   */
  readonly left_files?: readonly string[];
  /** Versions written without the person for cohorts whose current version held them. */
  readonly new_versions: readonly { readonly cohort: string; readonly version: number }[];
}

/** The short name of a record in messages: the first 12 hex digits of its hash. */
export const recordName = (hash: string): string => hash.slice(0, 12);

/** The key of a person's erasure record: named by the first of its hashes. */
export const erasureRecordKey = (hash: string) => `${ERASURES_PREFIX}${hash}.json`;

export async function writeErasureRecord(ports: PrivacyPorts, record: ErasureRecord): Promise<void> {
  await ports.blobs.put(erasureRecordKey(record.person_hashes[0] as string), `${JSON.stringify(record, null, 2)}\n`);
}

/** Every erasure record, in key order. */
export async function erasureRecords(ports: PrivacyPorts): Promise<ErasureRecord[]> {
  const keys = (await ports.blobs.list(ERASURES_PREFIX)).filter((key) => key.endsWith('.json'));
  const records = await Promise.all(keys.map((key) => ports.blobs.get(key)));
  return records
    .filter((bytes): bytes is Uint8Array => bytes !== undefined)
    .map((bytes) => JSON.parse(Buffer.from(bytes).toString('utf8')) as ErasureRecord);
}
