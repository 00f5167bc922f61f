import { createHash } from 'node:crypto';
import { CopyObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { awsCall } from './aws-call.ts';
import type { LakeObject, TsUnit } from './lake-objects.ts';

/**
 * The folders of the four lake tables under `<files prefix><listing>/`, one per table and format:
 * each Glue table reads only the files its manifests name, so no reader ever opens a file of the
 * other format. Shared with the Glue tables' `storage.location.template` (infra/catalog).
 */
export const MANIFEST_FOLDERS = {
  eventsJsonl: 'events-jsonl',
  eventsParquet: 'events-parquet',
  identitiesJsonl: 'identities-jsonl',
  identitiesParquet: 'identities-parquet',
} as const;

/**
 * The `dt` partition projection's range (Glue table property `projection.dt.range`). Athena
 * projects dates with Java's SimpleDateFormat, whose calendar is Julian before 1582-10-15: the
 * range starts with the first whole Gregorian year, so every projected date is the date the
 * folder names. A `dt=` folder outside it cannot be read by Athena and fails the Plan.
 */
export const DT_PROJECTION_RANGE = { from: '1583-01-01', to: '9999-12-31' } as const;

/** The manifests of one listing of the lake: what the four tables read, and where. */
export interface LakeManifests {
  /** The `listing` partition value: a hash of every file's key, ETag and size. */
  readonly listing: string;
  /** The `dt` values holding JSONL events and, per `ts` unit, Parquet events, ascending. */
  readonly dates: { readonly jsonl: readonly string[]; readonly parquet: ParquetDates };
  /** Whether the identity map has JSONL or Parquet files. */
  readonly identities: { readonly jsonl: boolean; readonly parquet: boolean };
  /** Manifest objects to write: key (in the files bucket) -> one `s3://` URI per line. */
  readonly manifests: ReadonlyMap<string, string>;
  /** Files whose names Athena would not read (see {@link readableAsTarget}): copied to these keys first. */
  readonly copies: readonly { readonly from: string; readonly to: string }[];
}

/** The `dt` values holding Parquet events, per `ts` unit (a unit no file uses is absent). */
export type ParquetDates = { readonly [unit in TsUnit]?: readonly string[] };

/** Where the manifests are written. */
export interface ManifestLocation {
  /** The lake bucket the files are in. */
  readonly lakeBucket: string;
  /** The bucket and prefix (`''` or ending in `/`) of the manifests and copies. */
  readonly filesBucket: string;
  readonly filesPrefix: string;
}

/** A `dt=` folder Athena's partition projection cannot name. */
export class UnprojectableDateError extends Error {
  override readonly name = 'UnprojectableDateError';
}

/**
 * Whether Athena reads a symlink target at this key as it is. Hadoop's FileInputFormat lists each
 * target with its hidden-file filter (a name starting with `_` or `.` matches nothing and fails
 * the query) and as a glob pattern (`*`, `?`, `[`, `{`, `\`); a manifest line ends at a line break.
 * Only plain names are used as they are; any other is copied to a plain name.
 */
export function readableAsTarget(key: string): boolean {
  return key.split('/').every((segment) => /^[A-Za-z0-9=+-][A-Za-z0-9._=+-]*$/.test(segment));
}

/** Whether a `dt=` value is a real date within the projection's range. */
function projectable(dt: string): boolean {
  const day = new Date(`${dt}T00:00:00Z`);
  return (
    !Number.isNaN(day.getTime()) && day.toISOString().slice(0, 10) === dt && dt >= DT_PROJECTION_RANGE.from && dt <= DT_PROJECTION_RANGE.to
  );
}

const ENDINGS = ['.jsonl.gz', '.jsonl', '.parquet'] as const;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The manifests for one listing: per table and `dt` (and, for Parquet events, the `ts` unit of
 * the files' footers), the list of its files (Hive's SymlinkTextInputFormat: one path per line). Pure: the same listing gives the same keys and
 * contents, so a retried Plan rewrites the same objects.
 */
export function lakeManifests(objects: readonly LakeObject[], where: ManifestLocation): LakeManifests {
  const listing = sha256(JSON.stringify(objects.map((o) => [o.key, o.etag, o.size]))).slice(0, 32);
  const root = `${where.filesPrefix}${listing}/`;
  const lines = new Map<string, string[]>();
  const copies: { from: string; to: string }[] = [];
  const jsonlDates = new Set<string>();
  const parquetDates = new Map<TsUnit, Set<string>>();
  const identities = { jsonl: false, parquet: false };
  for (const object of objects) {
    let uri = `s3://${where.lakeBucket}/${object.key}`;
    if (!readableAsTarget(object.key)) {
      const to = `${root}copies/${sha256(object.key).slice(0, 32)}${ENDINGS.find((e) => object.key.endsWith(e))}`;
      copies.push({ from: object.key, to });
      uri = `s3://${where.filesBucket}/${to}`;
    }
    let manifest: string;
    if (object.table === 'events') {
      const dt = object.dt as string;
      if (!projectable(dt)) {
        throw new UnprojectableDateError(
          `the lake folder events/dt=${dt}/ is not a date Athena can project (${DT_PROJECTION_RANGE.from} to ${DT_PROJECTION_RANGE.to}): ${object.key}`,
        );
      }
      if (object.format === 'jsonl') {
        jsonlDates.add(dt);
        manifest = `${root}${MANIFEST_FOLDERS.eventsJsonl}/dt=${dt}/files.txt`;
      } else {
        if (!object.tsUnit) throw new Error(`the ts unit of ${object.key} was not read`);
        parquetDates.set(object.tsUnit, (parquetDates.get(object.tsUnit) ?? new Set()).add(dt));
        manifest = `${root}${MANIFEST_FOLDERS.eventsParquet}/unit=${object.tsUnit}/dt=${dt}/files.txt`;
      }
    } else {
      identities[object.format] = true;
      manifest = `${root}${object.format === 'jsonl' ? MANIFEST_FOLDERS.identitiesJsonl : MANIFEST_FOLDERS.identitiesParquet}/files.txt`;
    }
    lines.set(manifest, [...(lines.get(manifest) ?? []), uri]);
  }
  const manifests = new Map([...lines].map(([key, uris]) => [key, uris.map((u) => `${u}\n`).join('')]));
  const parquet = Object.fromEntries([...parquetDates].map(([unit, set]) => [unit, [...set].sort()]));
  return { listing, dates: { jsonl: [...jsonlDates].sort(), parquet }, identities, manifests, copies };
}

/** At most this many S3 writes at once: a lake of ten years has thousands of manifests. */
const PARALLEL_WRITES = 16;

/** Copies the files that need it, then writes every manifest (copies first: a manifest never names a missing file). */
export async function writeLakeManifests(s3: S3Client, where: ManifestLocation, manifests: LakeManifests): Promise<void> {
  const source = (key: string) => `${where.lakeBucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  await inParallel(manifests.copies, ({ from, to }) =>
    awsCall('S3.CopyObject', () => s3.send(new CopyObjectCommand({ Bucket: where.filesBucket, Key: to, CopySource: source(from) }))),
  );
  await inParallel([...manifests.manifests], ([key, body]) =>
    awsCall('S3.PutObject', () =>
      s3.send(new PutObjectCommand({ Bucket: where.filesBucket, Key: key, Body: body, ContentType: 'text/plain; charset=utf-8' })),
    ),
  );
}

/** Runs `run` over `items`, at most {@link PARALLEL_WRITES} at once. */
export async function inParallel<T>(items: readonly T[], run: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await run(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_WRITES, items.length) }, worker));
}
