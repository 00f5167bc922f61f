import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type AsyncBuffer, parquetMetadataAsync, type SchemaElement } from 'hyparquet';
import { awsCall } from './aws-call.ts';
import type { LakeObject, TsUnit } from './lake-objects.ts';

/**
 * A Parquet events file whose `ts` is INT96 (legacy Spark and Hive writers): Athena can read it
 * only as a Hive `timestamp`, rounded to the millisecond, so windows would not be exact.
 */
export class Int96TimestampError extends Error {
  override readonly name = 'Int96TimestampError';
}

/** The unit of one footer's top-level `ts` column (Trino matches Parquet columns by name, case-insensitively). */
export function tsUnitOf(schema: readonly SchemaElement[], file: string): TsUnit {
  const column = schema.slice(1).find((element) => element.name.toLowerCase() === 'ts' && element.num_children === undefined);
  if (column?.type === 'INT96') {
    throw new Int96TimestampError(
      `${file}: ts is an INT96 timestamp, which Athena reads rounded to the millisecond; rewrite the file with ts as INT64 TIMESTAMP(MICROS) ` +
        '(Spark: spark.sql.parquet.outputTimestampType=TIMESTAMP_MICROS)',
    );
  }
  if (column?.type !== 'INT64') return 'none';
  const logical = column.logical_type;
  if (logical?.type === 'TIMESTAMP') return logical.unit === 'MILLIS' ? 'millis' : logical.unit === 'MICROS' ? 'micros' : 'nanos';
  if (column.converted_type === 'TIMESTAMP_MILLIS') return 'millis';
  if (column.converted_type === 'TIMESTAMP_MICROS') return 'micros';
  return 'none';
}

/** A footer is rarely over 64 KiB: one ranged GET per file, a second only for a larger footer. */
const FOOTER_FETCH = 1 << 16;
/** At most this many footer reads at once. */
const PARALLEL_READS = 16;

/** An S3 object as hyparquet's random-access buffer: each slice is one ranged GetObject. */
function s3Buffer(s3: S3Client, bucket: string, object: LakeObject): AsyncBuffer {
  return {
    byteLength: object.size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const last = (end ?? object.size) - 1;
      const out = await awsCall('S3.GetObject', () =>
        s3.send(
          new GetObjectCommand({ Bucket: bucket, Key: object.key, Range: `bytes=${start}-${last}`, IfMatch: object.etag || undefined }),
        ),
      );
      const bytes = (await out.Body?.transformToByteArray()) ?? new Uint8Array();
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}

/**
 * The lake's objects with the `ts` unit of every Parquet events file, read from its footer (one
 * ranged GET per file and run, {@link PARALLEL_READS} at once). Other objects are returned as they are.
 */
export async function withTsUnits(s3: S3Client, bucket: string, objects: readonly LakeObject[]): Promise<LakeObject[]> {
  const result = [...objects];
  const pending = result.flatMap((object, index) => (object.table === 'events' && object.format === 'parquet' ? [index] : []));
  let next = 0;
  const worker = async () => {
    while (next < pending.length) {
      const index = pending[next++] as number;
      const object = result[index] as LakeObject;
      const file = `s3://${bucket}/${object.key}`;
      const { schema } = await parquetMetadataAsync(s3Buffer(s3, bucket, object), { initialFetchSize: FOOTER_FETCH });
      result[index] = { ...object, tsUnit: tsUnitOf(schema, file) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, pending.length) }, worker));
  return result;
}
