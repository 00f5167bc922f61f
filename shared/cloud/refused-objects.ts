import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { INGEST_ERRORS_PREFIX } from '../bucket-layout.ts';
import { partitionFolderDate } from '../compiler/partition-date.ts';
import type { RefusedFiles } from '../ports.ts';
import { awsCall } from './aws-call.ts';

const REFUSED_FILE = /^[^/]+\/([^/]+)\/[^/]+$/;

/**
 * The files of records the delivery stream could not place (its error output under the lake's
 * `events-errors/<error type>/dt=YYYY-MM-DD/`, infra/ingestion/event-ingestion.ts), with the day
 * each arrived; undefined when there is none. Listing only: no file is read.
 */
export async function listRefusedObjects(s3: S3Client, bucket: string, lakePrefix: string): Promise<RefusedFiles | undefined> {
  const root = `${lakePrefix}${INGEST_ERRORS_PREFIX}`;
  const days: string[] = [];
  let token: string | undefined;
  do {
    const page = await awsCall('S3.ListObjectsV2', () =>
      s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: root, ContinuationToken: token })),
    );
    for (const item of page.Contents ?? []) {
      const folder = REFUSED_FILE.exec((item.Key ?? '').slice(root.length))?.[1];
      const day = folder === undefined ? undefined : partitionFolderDate(folder);
      if (day !== undefined) days.push(day);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return days.length === 0 ? undefined : { location: `s3://${bucket}/${root}`, days };
}
