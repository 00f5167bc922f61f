import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { BlobExistsError, type BlobStore, ConcurrentUpdateError, type EtaggedBlob } from '../ports.ts';
import { awsCall, errorNameOf, httpStatusOf } from './aws-call.ts';
import { bucketName, keyPrefix } from './s3-uri.ts';

/** Where an {@link S3BlobStore} keeps its objects. */
export interface S3BlobStoreOptions {
  /** The bucket, e.g. the snapshots bucket of the `CohortRefresh` construct. */
  readonly bucket: string;
  /**
   * Key prefix under which the store's keys live: `''` or folder names each ending in `/`.
   *
   * @default '' (the bucket root)
   */
  readonly prefix?: string;
}

export type { EtaggedBlob } from '../ports.ts';

const CONTENT_TYPES: ReadonlyArray<readonly [string, string]> = [
  ['.json', 'application/json'],
  ['.csv', 'text/csv; charset=utf-8'],
  ['.parquet', 'application/vnd.apache.parquet'],
  ['.yaml', 'application/yaml'],
  ['.yml', 'application/yaml'],
];

const contentTypeOf = (key: string) => CONTENT_TYPES.find(([ending]) => key.endsWith(ending))?.[1] ?? 'application/octet-stream';

/** A key the local store would resolve differently (`a/../b`) or not at all: the two must agree. */
function checkKey(key: string, allowEmpty = false): string {
  const segments = key.split('/');
  if (segments.at(-1) === '') segments.pop();
  const bad =
    (!allowEmpty && key === '') ||
    key.startsWith('/') ||
    segments.some((s) => s === '' || s === '.' || s === '..') ||
    /[\u0000-\u001f\u007f]/.test(key);
  if (bad) throw new Error(`not a valid blob key: ${JSON.stringify(key)}`);
  return key;
}

const isPreconditionFailed = (error: unknown) => httpStatusOf(error) === 412 || errorNameOf(error) === 'PreconditionFailed';
const isConditionalConflict = (error: unknown) => httpStatusOf(error) === 409 || errorNameOf(error) === 'ConditionalRequestConflict';
/** Only a missing key: a missing bucket (`NoSuchBucket`, also 404) is a deployment error and must surface. */
const isNotFound = (error: unknown) => errorNameOf(error) === 'NoSuchKey';

/**
 * A bucket (under an optional key prefix) as a blob store. S3 writes are atomic per object, so
 * readers see the old or the new bytes; `create` is an S3 conditional write (`If-None-Match: *`),
 * so a version is never rewritten even by two runs racing for it.
 */
export class S3BlobStore implements BlobStore {
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(
    private readonly client: S3Client,
    options: S3BlobStoreOptions,
  ) {
    this.bucket = bucketName(options.bucket);
    this.prefix = keyPrefix(options.prefix ?? '');
  }

  locate(key: string): string {
    return `s3://${this.bucket}/${this.prefix}${checkKey(key, true)}`;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return (await this.getWithEtag(key))?.body;
  }

  /** The object's bytes and ETag, or undefined when there is none. */
  async getWithEtag(key: string): Promise<EtaggedBlob | undefined> {
    try {
      const out = await awsCall('S3.GetObject', () =>
        this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) })),
      );
      const body = out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
      return { body, etag: out.ETag ?? '' };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Bytes [start, end) of an object (a ranged GET); undefined when there is none or it is shorter. */
  async getRange(key: string, start: number, end: number): Promise<Uint8Array | undefined> {
    if (end <= start) return new Uint8Array();
    try {
      const out = await awsCall('S3.GetObject', () =>
        this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key), Range: `bytes=${start}-${end - 1}` })),
      );
      const body = out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
      return body.byteLength === end - start ? body : undefined;
    } catch (error) {
      if (isNotFound(error) || errorNameOf(error) === 'InvalidRange' || httpStatusOf(error) === 416) return undefined;
      throw error;
    }
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    await this.write(key, body, {});
  }

  async create(key: string, body: Uint8Array | string): Promise<void> {
    try {
      await this.write(key, body, { IfNoneMatch: '*' });
    } catch (error) {
      if (isPreconditionFailed(error))
        throw new BlobExistsError(`${this.locate(key)} already exists and is never rewritten`, { cause: error });
      if (isConditionalConflict(error)) throw new ConcurrentUpdateError(`another writer is creating ${this.locate(key)}`, { cause: error });
      throw error;
    }
  }

  /**
   * Compare-and-swap: writes the object only if it is still as read, i.e. its ETag is still
   * `expectedEtag` (`If-Match`), or, when `expectedEtag` is undefined, it still does not exist
   * (`If-None-Match: *`). Returns the new ETag. A lost race raises {@link ConcurrentUpdateError}.
   *
   * `SnapshotStore.publish` moves `current.json` with it, so two runs never both move current.
   */
  async putIfUnchanged(key: string, body: Uint8Array | string, expectedEtag: string | undefined): Promise<string> {
    const condition = expectedEtag === undefined ? { IfNoneMatch: '*' } : { IfMatch: expectedEtag };
    try {
      return await this.write(key, body, condition);
    } catch (error) {
      // 412: changed (or created) since read; 404: deleted since read; 409: a write in flight.
      if (isPreconditionFailed(error) || isNotFound(error) || isConditionalConflict(error)) {
        throw new ConcurrentUpdateError(`${this.locate(key)} changed since it was read`, { cause: error });
      }
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await awsCall('S3.ListObjectsV2', () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.keyOf(prefix, true), ContinuationToken: token })),
      );
      for (const object of page.Contents ?? []) {
        // Zero-byte "folder" markers made by consoles are not blobs.
        if (object.Key?.startsWith(this.prefix) && !object.Key.endsWith('/')) keys.push(object.Key.slice(this.prefix.length));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  private keyOf(key: string, allowEmpty = false): string {
    return this.prefix + checkKey(key, allowEmpty);
  }

  private async write(
    key: string,
    body: Uint8Array | string,
    condition: { readonly IfNoneMatch?: string; readonly IfMatch?: string },
  ): Promise<string> {
    const out = await awsCall('S3.PutObject', () =>
      this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key), Body: body, ContentType: contentTypeOf(key), ...condition }),
      ),
    );
    return out.ETag ?? '';
  }
}
