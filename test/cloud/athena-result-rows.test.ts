import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { csvResultBatches } from '../../shared/cloud/athena-result-rows.ts';
import { objectBody } from './support.ts';

const s3 = mockClient(S3Client);

describe('the rows of a query read from its result file', () => {
  beforeEach(() => s3.reset());

  it('are the data rows of the CSV at its output location (header left out, NULL as null), with the bytes scanned', async () => {
    s3.on(GetObjectCommand, { Bucket: 'results', Key: 'results/q-1.csv' }).resolves({
      Body: objectBody('"event_id","day"\n"e,1","2026-03-01"\n,"2026-03-02"\n'),
    });
    const sent: string[] = [];
    const runner = {
      execute: async (sql: string) => {
        sent.push(sql);
        return { queryId: 'q-1', statistics: { dataScannedInBytes: 123 }, outputLocation: 's3://results/results/q-1.csv' };
      },
    };
    let bytes = 0;
    const batches: unknown[][] = [];
    for await (const batch of csvResultBatches(runner, new S3Client({ region: 'eu-central-1' }), 'SELECT event_id, day FROM ids', (n) => {
      bytes = n;
    }))
      batches.push([...batch]);
    expect(sent).toEqual(['SELECT event_id, day FROM ids']);
    expect(batches.flat()).toEqual([
      ['e,1', '2026-03-01'],
      [null, '2026-03-02'],
    ]);
    expect(bytes).toBe(123);
  });

  it('yields the rows batch by batch as the object streams, never the whole result at once', async () => {
    // 50,000 rows of ~30 bytes in chunks of 64 KiB, as a Lambda's GetObject stream arrives.
    const csv = new TextEncoder().encode(
      `"event_id","day"\n${Array.from({ length: 50_000 }, (_, i) => `"e-${i}","2026-03-01"\n`).join('')}`,
    );
    let served = 0;
    const chunks = (async function* () {
      for (let at = 0; at < csv.length; at += 65_536) {
        served = at + 65_536;
        yield csv.subarray(at, at + 65_536);
      }
    })();
    s3.on(GetObjectCommand, { Bucket: 'results', Key: 'results/q-3.csv' }).resolves({
      Body: Object.assign(chunks, { transformToByteArray: async () => csv }) as never,
    });
    const runner = {
      execute: async () => ({ queryId: 'q-3', statistics: { dataScannedInBytes: 1 }, outputLocation: 's3://results/results/q-3.csv' }),
    };
    let rows = 0;
    let largest = 0;
    let firstAfter = 0;
    for await (const batch of csvResultBatches(runner, new S3Client({ region: 'eu-central-1' }), 'SELECT event_id, day FROM ids')) {
      if (rows === 0) firstAfter = served;
      rows += batch.length;
      largest = Math.max(largest, batch.length);
    }
    expect(rows).toBe(50_000);
    // The first batch comes after the first chunk, not the whole object; no batch holds most rows.
    expect(firstAfter).toBeLessThan(csv.length / 4);
    expect(largest).toBeLessThan(10_000);
  });

  it('fails when Athena names no result file', async () => {
    const runner = { execute: async () => ({ queryId: 'q-2', statistics: { dataScannedInBytes: 0 } }) };
    await expect(csvResultBatches(runner, new S3Client({ region: 'eu-central-1' }), 'SELECT 1').next()).rejects.toThrow(
      /q-2 reported no result file/,
    );
  });
});
