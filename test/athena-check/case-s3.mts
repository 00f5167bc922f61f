/**
 * The lake bucket of one case as S3 would answer the Plan step's AthenaEngine: ListObjectsV2 (no
 * delimiter) over the case's lake folder, GetObject (ranged: Parquet footers), and the PutObject
 * (manifests) and CopyObject (files with names Athena skips) it sends to the files bucket, recorded
 * for glue_tables.py. Deterministic: the same lake gives the same listing, manifests and copies.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const LAKE_BUCKET = 'lake-bucket';
export const FILES_BUCKET = 'results-bucket';

/** A fake S3 client over a case's lake folder, and what the engine wrote to the files bucket. */
export function caseLakeS3(lakeDir: string) {
  const walk = (dir: string, prefix: string): { Key: string; Size: number; ETag: string }[] =>
    readdirSync(dir)
      .sort()
      .flatMap((name) => {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) return walk(path, `${prefix}${name}/`);
        const bytes = readFileSync(path);
        return [{ Key: `${prefix}${name}`, Size: bytes.length, ETag: `"${createHash('md5').update(bytes).digest('hex')}"` }];
      });
  const manifests: Record<string, string> = {};
  const copies: { from: string; to: string }[] = [];
  const s3 = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      const { name } = command.constructor;
      const input = command.input as { Bucket: string; Prefix?: string; Key?: string; Body?: string; CopySource?: string; Range?: string };
      if (name === 'ListObjectsV2Command' && input.Bucket === LAKE_BUCKET) {
        const prefix = input.Prefix ?? '';
        const Contents = existsSync(lakeDir) ? walk(lakeDir, '').filter((o) => o.Key.startsWith(prefix)) : [];
        return { Contents, IsTruncated: false };
      }
      if (name === 'GetObjectCommand' && input.Bucket === LAKE_BUCKET && input.Key) {
        // The Plan reads each Parquet events file's footer: a ranged GET `bytes=a-b`.
        const bytes = readFileSync(join(lakeDir, input.Key));
        const [, from, to] = /^bytes=(\d+)-(\d+)$/.exec(input.Range ?? '') ?? [];
        const body = from === undefined ? bytes : bytes.subarray(Number(from), Number(to) + 1);
        return { Body: { transformToByteArray: async () => new Uint8Array(body) } };
      }
      if (name === 'PutObjectCommand' && input.Bucket === FILES_BUCKET && input.Key) {
        manifests[input.Key] = String(input.Body);
        return {};
      }
      if (name === 'CopyObjectCommand' && input.Bucket === FILES_BUCKET && input.Key && input.CopySource?.startsWith(`${LAKE_BUCKET}/`)) {
        copies.push({ from: decodeURIComponent(input.CopySource.slice(LAKE_BUCKET.length + 1)), to: input.Key });
        return {};
      }
      throw new Error(`unexpected S3 call ${name} on ${input.Bucket}`);
    },
  };
  return { s3, manifests, copies };
}
