// Registers the aws-sdk-client-mock matchers (toHaveReceivedCommandWith, ...) with vitest 4.
import 'aws-sdk-client-mock-vitest/extend';
import type { GetObjectCommandOutput } from '@aws-sdk/client-s3';

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
