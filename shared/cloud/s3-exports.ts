import { CopyObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { awsCall } from './aws-call.ts';
import { ConcurrentUpdateError } from './errors.ts';
import { S3BlobStore } from './s3-blob-store.ts';
import { parseS3Uri } from './s3-uri.ts';

/** The exports bucket, and where under it exports go. */
export interface S3ExportsOptions {
  /** The construct's exports bucket. */
  readonly bucket: string;
  /**
   * Key prefix in front of `exports/`: `''` or folder names each ending in `/`.
   *
   * @default ''
   */
  readonly prefix?: string;
}

/** One cohort version to export: its members and the change against the previous published version. */
export interface CohortExport {
  readonly cohort: string;
  readonly version: number;
  /** The version's as-of instant, ISO-8601 UTC. */
  readonly asOf: string;
  /** Members, unique, in byte order. */
  readonly members: readonly string[];
  readonly entered: readonly string[];
  readonly exited: readonly string[];
  /**
   * The snapshot's `members.parquet` (`s3://...`), copied next to the CSV files when given.
   *
   * @default - no Parquet copy
   */
  readonly membersParquet?: string;
}

/** Where an export was written, as s3:// URIs. */
export interface ExportLocations {
  readonly folder: string;
  readonly members: string;
  readonly entered: string;
  readonly exited: string;
  readonly membersParquet?: string;
  readonly latest: string;
}

/** `latest.json`: the newest exported version of a cohort. */
export interface LatestExport {
  readonly cohort: string;
  readonly version: number;
  readonly as_of: string;
  readonly size: number;
  readonly entered: number;
  readonly exited: number;
  readonly members: string;
  readonly entered_csv: string;
  readonly exited_csv: string;
}

const COHORT_ID = /^[a-z][a-z0-9_]{2,62}$/;
/** Attempts at moving `latest.json` when other writers keep winning the race. */
const LATEST_ATTEMPTS = 3;

/** One CSV field, quoted as RFC 4180 requires when it holds a comma, a quote, CR or LF. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/**
 * A one-column CSV: header `person_id`, one id a line. Lines end in LF, not RFC 4180's CRLF:
 * Athena's and Hive's text readers would keep the CR as part of the last column.
 */
export function personIdsCsv(ids: readonly string[]): string {
  return `person_id\n${ids.map((id) => `${csvField(id)}\n`).join('')}`;
}

/**
 * Writes exports of cohort versions for downstream systems:
 * `exports/cohort=<id>/version=<N>/{members,entered,exited}.csv` (and optionally
 * `members.parquet`), then `exports/cohort=<id>/latest.json`, which only ever moves forward.
 * Files are plain puts, so a retried step rewrites the same bytes.
 */
export class S3Exports {
  private readonly blobs: S3BlobStore;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(
    private readonly client: S3Client,
    options: S3ExportsOptions,
  ) {
    this.blobs = new S3BlobStore(client, options);
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
  }

  async write(input: CohortExport): Promise<ExportLocations> {
    if (!COHORT_ID.test(input.cohort)) throw new Error(`not a cohort id: ${JSON.stringify(input.cohort)}`);
    if (!Number.isSafeInteger(input.version) || input.version < 1) throw new Error(`not a version number: ${input.version}`);
    const folder = `exports/cohort=${input.cohort}/version=${input.version}/`;
    const keys = { members: `${folder}members.csv`, entered: `${folder}entered.csv`, exited: `${folder}exited.csv` };
    await Promise.all([
      this.blobs.put(keys.members, personIdsCsv(input.members)),
      this.blobs.put(keys.entered, personIdsCsv(input.entered)),
      this.blobs.put(keys.exited, personIdsCsv(input.exited)),
      ...(input.membersParquet ? [this.copy(input.membersParquet, `${folder}members.parquet`)] : []),
    ]);
    const latestKey = `exports/cohort=${input.cohort}/latest.json`;
    await this.moveLatest(latestKey, {
      cohort: input.cohort,
      version: input.version,
      as_of: input.asOf,
      size: input.members.length,
      entered: input.entered.length,
      exited: input.exited.length,
      members: this.blobs.locate(keys.members),
      entered_csv: this.blobs.locate(keys.entered),
      exited_csv: this.blobs.locate(keys.exited),
    });
    return {
      folder: this.blobs.locate(folder),
      members: this.blobs.locate(keys.members),
      entered: this.blobs.locate(keys.entered),
      exited: this.blobs.locate(keys.exited),
      ...(input.membersParquet ? { membersParquet: this.blobs.locate(`${folder}members.parquet`) } : {}),
      latest: this.blobs.locate(latestKey),
    };
  }

  /** Points `latest.json` at this version unless a newer one is already there (a late retry). */
  private async moveLatest(key: string, latest: LatestExport): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const seen = await this.blobs.getWithEtag(key);
      const at = seen ? (JSON.parse(Buffer.from(seen.body).toString('utf8')) as Partial<LatestExport>).version : undefined;
      if (typeof at === 'number' && at > latest.version) return;
      try {
        await this.blobs.putIfUnchanged(key, `${JSON.stringify(latest, null, 2)}\n`, seen?.etag);
        return;
      } catch (error) {
        if (!(error instanceof ConcurrentUpdateError) || attempt >= LATEST_ATTEMPTS) throw error;
      }
    }
  }

  private async copy(source: string, key: string): Promise<void> {
    const from = parseS3Uri(source);
    const copySource = `${from.bucket}/${from.key.split('/').map(encodeURIComponent).join('/')}`;
    await awsCall('S3.CopyObject', () =>
      this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: `${this.prefix}${key}`, CopySource: copySource })),
    );
  }
}
