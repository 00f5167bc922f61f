import type { S3Client } from '@aws-sdk/client-s3';
import { BlobExports, type LatestMover, latestText, latestVersionOf } from '../deliver/exports.ts';
import type { MembersCodec } from '../ports.ts';
import { ConcurrentUpdateError } from './errors.ts';
import { S3BlobStore } from './s3-blob-store.ts';

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

/** Attempts at moving `latest.json` when other writers keep winning the race. */
const LATEST_ATTEMPTS = 3;

/**
 * Moves `latest.json` with S3 conditional writes: two runs exporting versions of one cohort at
 * once can never move it backwards. A lost race re-reads and decides again, a few times.
 */
export function conditionalLatest(blobs: S3BlobStore): LatestMover {
  return async (key, latest) => {
    for (let attempt = 1; ; attempt++) {
      const seen = await blobs.getWithEtag(key);
      const at = latestVersionOf(seen?.body);
      if (at !== undefined && at > latest.version) return;
      try {
        await blobs.putIfUnchanged(key, latestText(latest), seen?.etag);
        return;
      } catch (error) {
        if (!(error instanceof ConcurrentUpdateError) || attempt >= LATEST_ATTEMPTS) throw error;
      }
    }
  };
}

/** The exports bucket as the exports port: the layout of shared/deliver/exports.ts under `prefix`. */
export function s3Exports(client: S3Client, options: S3ExportsOptions, codec: MembersCodec): BlobExports {
  const blobs = new S3BlobStore(client, options);
  return new BlobExports(blobs, codec, conditionalLatest(blobs));
}
