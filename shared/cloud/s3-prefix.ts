import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { awsCall } from './aws-call.ts';

/** An object as a listing shows it. */
export interface ListedObject {
  readonly key: string;
  readonly size: number;
}

/** Every object whose key starts with `prefix`, page by page (1,000 keys a call), as listed. */
export async function* objectsUnder(s3: S3Client, bucket: string, prefix: string): AsyncGenerator<ListedObject[]> {
  let token: string | undefined;
  do {
    const page = await awsCall('S3.ListObjectsV2', () =>
      s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token })),
    );
    yield (page.Contents ?? []).flatMap((o) => (o.Key ? [{ key: o.Key, size: o.Size ?? 0 }] : []));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** Deletes objects in one call (at most 1,000 keys); any key that could not be deleted fails it (a missing key is no error in S3). */
export async function deleteObjects(s3: S3Client, bucket: string, keys: readonly string[], what: string): Promise<void> {
  if (keys.length === 0) return;
  const out = await awsCall('S3.DeleteObjects', () =>
    s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } })),
  );
  const failed = out?.Errors ?? [];
  if (failed.length > 0) throw new Error(`could not delete ${failed.length} files of ${what}: ${failed[0]?.Code} ${failed[0]?.Message}`);
}

/** Deletes every object whose key starts with `prefix`, a page (1,000 keys) at a time. */
export async function deletePrefix(s3: S3Client, bucket: string, prefix: string, what: string): Promise<void> {
  for await (const page of objectsUnder(s3, bucket, prefix)) {
    await deleteObjects(
      s3,
      bucket,
      page.map((o) => o.key),
      what,
    );
  }
}
