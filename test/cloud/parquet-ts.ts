import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { stringLiteral } from '../../shared/compiler/sql-text.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';

/** The DuckDB type `ts` is written as: INT64 TIMESTAMP(MILLIS, MICROS, NANOS; UTC or not), or text. */
export type TsType = 'TIMESTAMP_MS' | 'TIMESTAMP' | 'TIMESTAMPTZ' | 'TIMESTAMP_NS' | 'VARCHAR';

/** The bytes of a one-event Parquet file whose `ts` DuckDB writes as the given type. */
export async function parquetWithTs(type: TsType): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), 'parquet-ts-'));
  const file = join(dir, 'events.parquet');
  const db = await openDuckDb();
  try {
    await db.run(
      `COPY (SELECT 'e1' AS event_id, 'web' AS source, 'u1' AS user_id, 'login' AS event_name, CAST('2024-05-31 23:59:59.999999' AS ${type}) AS ts, ` +
        `'{}' AS properties, 1.0 AS value) TO ${stringLiteral(file)} (FORMAT parquet)`,
    );
    return new Uint8Array(await readFile(file));
  } finally {
    db.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}

/** A one-event Parquet file written in plain JavaScript (hyparquet-writer): `ts` as INT64 TIMESTAMP_MILLIS. */
export const PARQUET_EVENTS_MILLIS: Uint8Array = new Uint8Array(
  parquetWriteBuffer({
    columnData: [
      { name: 'event_id', data: ['e1'], type: 'STRING' },
      { name: 'ts', data: [new Date('2024-05-31T12:00:00.000Z')], type: 'TIMESTAMP' },
    ],
  }),
);
