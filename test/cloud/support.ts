// Registers the aws-sdk-client-mock matchers (toHaveReceivedCommandWith, ...) with vitest 4.
import 'aws-sdk-client-mock-vitest/extend';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { AwsClientStub } from 'aws-sdk-client-mock';

/** The fields of an AWS SDK service error that the adapters look at. */
export interface ServiceErrorFields {
  readonly name: string;
  readonly status?: number;
  readonly message?: string;
  readonly throttling?: boolean;
}

/** An error shaped like one the SDK throws after the service answered. */
export function serviceError({ name, status, message, throttling }: ServiceErrorFields): Error {
  return Object.assign(new Error(message ?? name), {
    name,
    $fault: 'client',
    $metadata: status === undefined ? {} : { httpStatusCode: status },
    ...(throttling === undefined ? {} : { $retryable: { throttling } }),
  });
}

/** A GetObject body: only the method the blob store calls. */
export function objectBody(body: string | Uint8Array): GetObjectCommandOutput['Body'] {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  return { transformToByteArray: async () => bytes } as unknown as GetObjectCommandOutput['Body'];
}

/** Bytes as UTF-8 text. */
export const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8'));

/**
 * A bucket held in `objects` behind a mocked S3 client (GetObject, PutObject, ListObjectsV2,
 * DeleteObjects); `log` gets `put <key>` and `delete <key>` (keys that were there) in order.
 */
export function bucketOfMap(s3: AwsClientStub<S3Client>, objects: Map<string, string>, log: string[] = []): void {
  s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const body = objects.get(input.Key);
    if (body === undefined) throw serviceError({ name: 'NoSuchKey', status: 404 });
    return { Body: objectBody(body) };
  });
  s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: string }) => {
    objects.set(input.Key, String(input.Body));
    log.push(`put ${input.Key}`);
    return { ETag: '"e"' };
  });
  s3.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => ({
    Contents: [...objects.entries()].filter(([k]) => k.startsWith(input.Prefix)).map(([Key, body]) => ({ Key, Size: body.length })),
  }));
  s3.on(DeleteObjectsCommand).callsFake((input: { Delete: { Objects: { Key: string }[] } }) => {
    for (const { Key } of input.Delete.Objects) if (objects.delete(Key)) log.push(`delete ${Key}`);
    return {};
  });
}
