import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { csvResultRows } from '../../shared/cloud/athena-result-rows.ts';
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
    const result = await csvResultRows(runner, new S3Client({ region: 'eu-central-1' }), 'SELECT event_id, day FROM ids');
    expect(sent).toEqual(['SELECT event_id, day FROM ids']);
    expect(result).toEqual({
      rows: [
        ['e,1', '2026-03-01'],
        [null, '2026-03-02'],
      ],
      bytesScanned: 123,
    });
  });

  it('fails when Athena names no result file', async () => {
    const runner = { execute: async () => ({ queryId: 'q-2', statistics: { dataScannedInBytes: 0 } }) };
    await expect(csvResultRows(runner, new S3Client({ region: 'eu-central-1' }), 'SELECT 1')).rejects.toThrow(
      /q-2 reported no result file/,
    );
  });
});
