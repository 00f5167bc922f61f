import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { athenaCsvRows, type CsvRow } from './athena-csv.ts';
import type { AthenaExecution } from './athena-query.ts';
import { awsCall } from './aws-call.ts';
import { parseS3Uri } from './s3-uri.ts';

/** An S3 object's body as chunks: in Lambda a Node.js stream, read as it arrives; anything else read whole. */
export async function objectChunks(s3: S3Client, uri: string): Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array>> {
  const { bucket, key } = parseS3Uri(uri);
  const out = await awsCall('S3.GetObject', () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
  const body = out.Body as (Partial<AsyncIterable<Uint8Array>> & { transformToByteArray(): Promise<Uint8Array> }) | undefined;
  if (!body) return [];
  if (body[Symbol.asyncIterator]) return body as AsyncIterable<Uint8Array>;
  return [await body.transformToByteArray()];
}

/**
 * The data rows of a SELECT read from its CSV result object in one GET rather than from
 * GetQueryResults' pages of 1,000 rows (a query of a day's event ids may have millions), in
 * batches as the object streams (header left out): a caller that keeps what it needs of each
 * batch never holds every row. `scanned` is told the bytes the query scanned once it finished.
 */
export async function* csvResultBatches(
  runner: { execute(sql: string): Promise<AthenaExecution> },
  s3: S3Client,
  sql: string,
  scanned: (bytes: number) => void = () => {},
): AsyncGenerator<CsvRow[]> {
  const execution = await runner.execute(sql);
  if (!execution.outputLocation) throw new Error(`Athena query ${execution.queryId} reported no result file`);
  scanned(execution.statistics.dataScannedInBytes);
  let header = true;
  for await (const batch of athenaCsvRows(await objectChunks(s3, execution.outputLocation))) {
    const rows = header ? batch.slice(1) : batch;
    header &&= batch.length === 0;
    if (rows.length > 0) yield rows;
  }
}
