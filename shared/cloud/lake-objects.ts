import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { partitionFolderDate } from '../compiler/partition-date.ts';
import { awsCall } from './aws-call.ts';

/**
 * How a Parquet events file stores `ts`, which decides how Athena reads it exactly: an INT64
 * timestamp's stored count of `millis`, `micros` or `nanos` since the epoch (read as `bigint`),
 * or `none` when `ts` is no INT64 timestamp at all (missing, text, a DATE...: its rows have no
 * valid `ts`, as on the local path).
 */
export type TsUnit = 'millis' | 'micros' | 'nanos' | 'none';

/** Every unit, in the order the relations read them. */
export const TS_UNITS: readonly TsUnit[] = ['millis', 'micros', 'nanos', 'none'];

/** How a lake file is read: by its name's ending (SPEC section 1). */
export type LakeFormat = 'jsonl' | 'parquet';

/** One data file of the lake, as the S3 listing shows it. */
export interface LakeObject {
  /** `events` (with its `dt`) or `identities`. */
  readonly table: 'events' | 'identities';
  readonly format: LakeFormat;
  /** The full key in the lake bucket. */
  readonly key: string;
  /** The `dt=` folder's date, for events. */
  readonly dt?: string;
  /** ETag and size: what the listing id is made of, so a changed file changes it. */
  readonly etag: string;
  readonly size: number;
  /** For Parquet events: how the file stores `ts` (its footer, see lake-ts-units.ts). */
  readonly tsUnit?: TsUnit;
}

/** The lake's files as listed, and the folders of `events/` that are not read (see {@link partitionFolderDate}). */
export interface LakeListing {
  readonly objects: LakeObject[];
  /** Keys (with the lake prefix) of `events/` sub-folders that are not `dt=` plus a real date, each once. */
  readonly skipped: string[];
}

const EVENT_FILE = /^events\/([^/]+)\/([^/]+)$/;
const IDENTITY_FILE = /^identities\/([^/]+)$/;

/** The format a file name is read as, as the local lake reads it; undefined for other files. */
export function lakeFormat(name: string): LakeFormat | undefined {
  if (name.endsWith('.parquet')) return 'parquet';
  if (name.endsWith('.jsonl') || name.endsWith('.jsonl.gz')) return 'jsonl';
  return undefined;
}

/**
 * Classifies one key of the lake (relative to its prefix): a data file, an `events/` folder that
 * is not read (by its name, as the local reader reports it), or undefined for anything else.
 */
function lakeObject(relative: string, key: string, etag: string, size: number): LakeObject | { skipped: string } | undefined {
  const event = EVENT_FILE.exec(relative);
  const dt = event && partitionFolderDate(event[1] as string);
  if (event && dt === undefined) return { skipped: `events/${event[1]}` };
  const name = event?.[2] ?? IDENTITY_FILE.exec(relative)?.[1];
  const format = name === undefined ? undefined : lakeFormat(name);
  if (!format) return undefined;
  return dt ? { table: 'events', format, key, dt, etag, size } : { table: 'identities', format, key, etag, size };
}

/**
 * Every data file of the lake: `events/dt=YYYY-MM-DD/<name>` and `identities/<name>` ending in
 * `.parquet`, `.jsonl` or `.jsonl.gz` (SPEC section 1), whatever the name otherwise (hidden names
 * included, as the local reader reads them). One ListObjectsV2 call per 1,000 objects and folder.
 */
export async function listLakeObjects(s3: S3Client, bucket: string, prefix: string): Promise<LakeListing> {
  const objects: LakeObject[] = [];
  const skipped = new Set<string>();
  for (const folder of ['events/', 'identities/']) {
    let token: string | undefined;
    do {
      const page = await awsCall('S3.ListObjectsV2', () =>
        s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}${folder}`, ContinuationToken: token })),
      );
      for (const item of page.Contents ?? []) {
        if (!item.Key) continue;
        const found = lakeObject(item.Key.slice(prefix.length), item.Key, item.ETag ?? '', item.Size ?? 0);
        if (found && 'skipped' in found) skipped.add(`${prefix}${found.skipped}`);
        else if (found) objects.push(found);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
  return { objects: objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)), skipped: [...skipped].sort() };
}
