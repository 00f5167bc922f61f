import { InvalidS3LocationError } from './errors.ts';

/** S3 bucket naming rules (general purpose buckets), without the dotted-IP corner cases. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/**
 * Key characters S3 calls safe, plus `=` for Hive-style folders. Anything else (quotes, spaces,
 * backslashes, control characters) is refused wherever a location is written into SQL or a URI.
 */
const SAFE_SEGMENT = '[A-Za-z0-9!_.*()=-]+';
const FOLDER_URI = new RegExp(`^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/((?:${SAFE_SEGMENT}/)*)$`);

/** Validates a bucket name; returns it. */
export function bucketName(bucket: string): string {
  if (!BUCKET.test(bucket) || bucket.includes('..'))
    throw new InvalidS3LocationError(`not a valid S3 bucket name: ${JSON.stringify(bucket)}`);
  return bucket;
}

/** Validates a key prefix: `''` or safe segments each ending in `/`; returns it. */
export function keyPrefix(prefix: string): string {
  if (prefix !== '' && !new RegExp(`^(?:${SAFE_SEGMENT}/)+$`).test(prefix)) {
    throw new InvalidS3LocationError(`a key prefix is '' or safe folder names each ending in "/", got ${JSON.stringify(prefix)}`);
  }
  return prefix;
}

/**
 * Validates an `s3://bucket/folder/` URI that will be written into SQL: a valid bucket, safe
 * folder names only (so never a quote), ending in `/`. Returns it unchanged.
 */
export function s3FolderUri(uri: string): string {
  const match = FOLDER_URI.exec(uri);
  if (!match?.[1] || match[1].includes('..')) {
    throw new InvalidS3LocationError(
      `not a safe s3:// folder URI (s3://bucket/folder/, no quotes or spaces, ending in "/"): ${JSON.stringify(uri)}`,
    );
  }
  return uri;
}

/** Bucket and key of an `s3://bucket/key` URI. */
export function parseS3Uri(uri: string): { readonly bucket: string; readonly key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match?.[1] || !match[2]) throw new InvalidS3LocationError(`not an s3://bucket/key URI: ${JSON.stringify(uri)}`);
  return { bucket: bucketName(match[1]), key: match[2] };
}
