import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { awsCall } from './aws-call.ts';
import type { TsUnit } from './lake-ts-units.ts';

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

const EVENT_FILE = /^events\/dt=(\d{4}-\d{2}-\d{2})\/([^/]+)$/;
const IDENTITY_FILE = /^identities\/([^/]+)$/;

/** The format a file name is read as, as the local lake reads it; undefined for other files. */
export function lakeFormat(name: string): LakeFormat | undefined {
  if (name.endsWith('.parquet')) return 'parquet';
  if (name.endsWith('.jsonl') || name.endsWith('.jsonl.gz')) return 'jsonl';
  return undefined;
}

/** Classifies one key of the lake (relative to its prefix); undefined for anything that is no data file. */
function lakeObject(relative: string, key: string, etag: string, size: number): LakeObject | undefined {
  const event = EVENT_FILE.exec(relative);
  const name = event?.[2] ?? IDENTITY_FILE.exec(relative)?.[1];
  const format = name === undefined ? undefined : lakeFormat(name);
  if (!format) return undefined;
  return event ? { table: 'events', format, key, dt: event[1] as string, etag, size } : { table: 'identities', format, key, etag, size };
}

/**
 * Every data file of the lake: `events/dt=YYYY-MM-DD/<name>` and `identities/<name>` ending in
 * `.parquet`, `.jsonl` or `.jsonl.gz` (SPEC section 1), whatever the name otherwise (hidden names
 * included, as the local reader reads them). One ListObjectsV2 call per 1,000 objects and folder.
 */
export async function listLakeObjects(s3: S3Client, bucket: string, prefix: string): Promise<LakeObject[]> {
  const objects: LakeObject[] = [];
  for (const folder of ['events/', 'identities/']) {
    let token: string | undefined;
    do {
      const page = await awsCall('S3.ListObjectsV2', () =>
        s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}${folder}`, ContinuationToken: token })),
      );
      for (const item of page.Contents ?? []) {
        if (!item.Key) continue;
        const found = lakeObject(item.Key.slice(prefix.length), item.Key, item.ETag ?? '', item.Size ?? 0);
        if (found) objects.push(found);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
  return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
