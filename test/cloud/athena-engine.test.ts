import { Readable } from 'node:stream';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetQueryRuntimeStatisticsCommand,
  type QueryExecution,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { DeleteTableCommand, EntityNotFoundException, GetTableCommand, GlueClient } from '@aws-sdk/client-glue';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AthenaEngine, NotAnEvaluationError } from '../../shared/cloud/athena-engine.ts';
import { AthenaEvaluations } from '../../shared/cloud/athena-evaluations.ts';
import { athenaLakeRelations } from '../../shared/cloud/athena-lake.ts';
import { AthenaQueryFailedError, AthenaQueryRunner } from '../../shared/cloud/athena-query.ts';
import { InvalidS3LocationError, ThrottledError } from '../../shared/cloud/errors.ts';
import { UnprojectableDateError } from '../../shared/cloud/lake-manifests.ts';
import { Int96TimestampError, tsUnitOf } from '../../shared/cloud/lake-ts-units.ts';
import { parquetWithTs } from './parquet-ts.ts';
import { objectBody, serviceError } from './support.ts';
import { EvaluationNotFoundError } from '../../shared/ports.ts';

const athena = mockClient(AthenaClient);
const s3 = mockClient(S3Client);
const glue = mockClient(GlueClient);
const runner = new AthenaQueryRunner(new AthenaClient({ region: 'eu-central-1' }), {
  workGroup: 'cohort-refresh',
  database: 'cohort_refresh',
  sleep: async () => {},
});
const engine = new AthenaEngine({
  runner,
  s3: new S3Client({ region: 'eu-central-1' }),
  glue: new GlueClient({ region: 'eu-central-1' }),
  database: 'cohort_refresh',
  lakeBucket: 'lake-bucket',
  lakePrefix: 'lake/',
  resultsBucket: 'results-bucket',
});
const evaluations = new AthenaEvaluations(runner, 'cohort_refresh');

const EVALUATION = { location: 'evaluation_r1', population: 5 };
const succeeded = (extra: Partial<QueryExecution> = {}) => ({
  QueryExecution: {
    QueryExecutionId: 'q-1',
    Status: { State: 'SUCCEEDED' },
    StatementType: 'DML',
    SubstatementType: 'SELECT',
    ...extra,
  } as QueryExecution,
});
/** The bytes an HTTP range `bytes=a-b` names. */
const ranged = (bytes: Uint8Array, range: string | undefined) => {
  const [, from, to] = /^bytes=(\d+)-(\d+)$/.exec(range ?? '') ?? [];
  return from === undefined ? bytes : bytes.subarray(Number(from), Number(to) + 1);
};
/** A GetObject body streamed in chunks, as Lambda's Node.js runtime delivers it. */
const streamed = (...chunks: string[]) => Readable.from(chunks.map((c) => Buffer.from(c))) as never;

describe('the Athena query engine', () => {
  beforeEach(() => {
    athena.reset();
    s3.reset();
    glue.reset();
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    s3.on(ListObjectsV2Command, { Prefix: 'lake/events-errors/' }).resolves({});
  });

  it('is named for lineage and speaks the Athena dialect', () => {
    expect(engine.name).toBe('athena engine v3');
    expect(engine.dialect.name).toBe('athena');
  });

  it('lists the lake page by page, writes one manifest per table and dt, and names the dt= partitions a query reads', async () => {
    // Prepare
    const micros = await parquetWithTs('TIMESTAMP');
    const file = (Key: string, ETag = '"e"') => ({ Key, ETag, Size: Key.endsWith('.parquet') ? micros.length : 10 });
    s3.on(GetObjectCommand).callsFake(({ Range }) => ({ Body: objectBody(ranged(micros, Range)) }));
    s3.on(ListObjectsV2Command, { Prefix: 'lake/events/' })
      .resolvesOnce({
        Contents: [
          file('lake/events/dt=2024-05-30/a.jsonl'),
          file('lake/events/dt=2024-05-31/b.jsonl.gz'),
          file('lake/events/dt=2024-05-31/c.parquet'),
        ],
        IsTruncated: true,
        NextContinuationToken: 't-2',
      })
      .resolves({
        Contents: [
          file('lake/events/dt=2024-06-01/d.parquet'),
          file('lake/events/dt=2024-06-01/notes.txt'),
          file('lake/events/other/e.jsonl'),
        ],
        IsTruncated: false,
      });
    s3.on(ListObjectsV2Command, { Prefix: 'lake/identities/' }).resolves({
      Contents: [file('lake/identities/map.parquet')],
      IsTruncated: false,
    });
    s3.on(PutObjectCommand).resolves({});
    // Act
    const lake = await engine.lake();
    // Assess: each format's files in its own manifests, under one listing
    const puts = s3.commandCalls(PutObjectCommand).map((call) => [call.args[0].input.Key, call.args[0].input.Body]);
    const listing = String(puts[0]?.[0]).split('/')[1] as string;
    expect(listing).toMatch(/^[0-9a-f]{32}$/);
    expect(Object.fromEntries(puts)).toEqual({
      [`lake-files/${listing}/events-jsonl/dt=2024-05-30/files.txt`]: 's3://lake-bucket/lake/events/dt=2024-05-30/a.jsonl\n',
      [`lake-files/${listing}/events-jsonl/dt=2024-05-31/files.txt`]: 's3://lake-bucket/lake/events/dt=2024-05-31/b.jsonl.gz\n',
      [`lake-files/${listing}/events-parquet/unit=micros/dt=2024-05-31/files.txt`]:
        's3://lake-bucket/lake/events/dt=2024-05-31/c.parquet\n',
      [`lake-files/${listing}/events-parquet/unit=micros/dt=2024-06-01/files.txt`]:
        's3://lake-bucket/lake/events/dt=2024-06-01/d.parquet\n',
      [`lake-files/${listing}/identities-parquet/files.txt`]: 's3://lake-bucket/lake/identities/map.parquet\n',
    });
    expect(s3.commandCalls(PutObjectCommand).every((call) => call.args[0].input.Bucket === 'results-bucket')).toBe(true);
    expect(lake.relations).toEqual(
      athenaLakeRelations(
        { database: 'cohort_refresh' },
        {
          listing,
          dates: { jsonl: ['2024-05-30', '2024-05-31'], parquet: { micros: ['2024-05-31', '2024-06-01'] } },
          identities: { jsonl: false, parquet: true },
        },
      ),
    );
    expect(lake.inputs({ from: '2024-05-31', to: '2024-06-01' })).toEqual([
      { table: 'events', location: 's3://lake-bucket/lake/events/', partitions: ['dt=2024-05-31', 'dt=2024-06-01'] },
      { table: 'identities', location: 's3://lake-bucket/lake/identities/', partitions: [] },
    ]);
    expect(lake.inputs({ to: '2024-05-31' })[0]?.partitions).toEqual(['dt=2024-05-30', 'dt=2024-05-31']);
    expect(s3).toHaveReceivedNthCommandWith(ListObjectsV2Command, 1, {
      Bucket: 'lake-bucket',
      Prefix: 'lake/events/',
      ContinuationToken: undefined,
    });
    expect(s3).toHaveReceivedNthCommandWith(ListObjectsV2Command, 2, {
      Bucket: 'lake-bucket',
      Prefix: 'lake/events/',
      ContinuationToken: 't-2',
    });
  });

  it('reads each Parquet events footer (one ranged GET) and lists the file under the unit its ts stores', async () => {
    // Prepare: one file per way of storing ts
    const files: Record<string, Uint8Array> = {
      'lake/events/dt=2024-05-31/ms.parquet': await parquetWithTs('TIMESTAMP_MS'),
      'lake/events/dt=2024-05-31/us.parquet': await parquetWithTs('TIMESTAMP'),
      'lake/events/dt=2024-06-01/tz.parquet': await parquetWithTs('TIMESTAMPTZ'),
      'lake/events/dt=2024-06-01/ns.parquet': await parquetWithTs('TIMESTAMP_NS'),
      'lake/events/dt=2024-06-02/text.parquet': await parquetWithTs('VARCHAR'),
    };
    s3.on(ListObjectsV2Command, { Prefix: 'lake/events/' }).resolves({
      Contents: Object.entries(files).map(([Key, bytes]) => ({ Key, ETag: '"e"', Size: bytes.length })),
    });
    s3.on(ListObjectsV2Command, { Prefix: 'lake/identities/' }).resolves({});
    s3.on(GetObjectCommand).callsFake(({ Key, Range }) => ({ Body: objectBody(ranged(files[Key] as Uint8Array, Range)) }));
    s3.on(PutObjectCommand).resolves({});
    // Act
    const lake = await engine.lake();
    // Assess
    const puts = Object.fromEntries(
      s3
        .commandCalls(PutObjectCommand)
        .map((call) => [String(call.args[0].input.Key).split('/').slice(2).join('/'), call.args[0].input.Body]),
    );
    expect(puts).toEqual({
      'events-parquet/unit=millis/dt=2024-05-31/files.txt': 's3://lake-bucket/lake/events/dt=2024-05-31/ms.parquet\n',
      'events-parquet/unit=micros/dt=2024-05-31/files.txt': 's3://lake-bucket/lake/events/dt=2024-05-31/us.parquet\n',
      'events-parquet/unit=micros/dt=2024-06-01/files.txt': 's3://lake-bucket/lake/events/dt=2024-06-01/tz.parquet\n',
      'events-parquet/unit=nanos/dt=2024-06-01/files.txt': 's3://lake-bucket/lake/events/dt=2024-06-01/ns.parquet\n',
      'events-parquet/unit=none/dt=2024-06-02/files.txt': 's3://lake-bucket/lake/events/dt=2024-06-02/text.parquet\n',
    });
    expect(
      s3
        .commandCalls(GetObjectCommand)
        .map((call) => call.args[0].input.Key)
        .sort(),
    ).toEqual(Object.keys(files).sort());
    expect(
      s3
        .commandCalls(GetObjectCommand)
        .every((call) => call.args[0].input.IfMatch === '"e"' && /^bytes=\d+-\d+$/.test(String(call.args[0].input.Range))),
    ).toBe(true);
    expect(lake.relations.events).toContain("date_add('millisecond', ts, TIMESTAMP '1970-01-01 00:00:00.000000 UTC') AS ts");
    expect(lake.relations.events).toContain("AND dt BETWEEN '2024-05-31' AND '2024-06-01' AND unit = 'micros'");
    expect(lake.relations.events).toContain("date_add('microsecond', ts / 1000, TIMESTAMP '1970-01-01 00:00:00.000000 UTC') AS ts");
    expect(lake.relations.events).toContain("AND dt BETWEEN '2024-06-02' AND '2024-06-02' AND unit = 'none'");
  });

  it('refuses an INT96 ts (Athena reads it rounded to the millisecond), naming the file', () => {
    // Prepare
    const schema = [
      { name: 'root', num_children: 1 },
      { name: 'ts', type: 'INT96' as const },
    ];
    // Act & Assess
    expect(() => tsUnitOf(schema, 's3://lake/events/dt=2024-05-31/spark.parquet')).toThrow(Int96TimestampError);
    expect(() => tsUnitOf(schema, 's3://lake/events/dt=2024-05-31/spark.parquet')).toThrow('spark.parquet: ts is an INT96 timestamp');
    expect(
      tsUnitOf(
        [
          { name: 'root', num_children: 1 },
          { name: 'TS', type: 'INT64', converted_type: 'TIMESTAMP_MILLIS' },
        ],
        'f',
      ),
    ).toBe('millis');
    expect(
      tsUnitOf(
        [
          { name: 'root', num_children: 1 },
          { name: 'ts', type: 'INT64' },
        ],
        'f',
      ),
    ).toBe('none');
  });

  it('gives the same listing for the same files and another when a file changes', async () => {
    // Prepare
    const listingOf = async (etag: string) => {
      s3.reset();
      s3.on(ListObjectsV2Command, { Prefix: 'lake/events/' }).resolves({
        Contents: [{ Key: 'lake/events/dt=2024-05-30/a.jsonl', ETag: etag, Size: 1 }],
      });
      s3.on(ListObjectsV2Command, { Prefix: 'lake/identities/' }).resolves({});
      s3.on(ListObjectsV2Command, { Prefix: 'lake/events-errors/' }).resolves({});
      s3.on(PutObjectCommand).resolves({});
      await engine.lake();
      return String(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Key).split('/')[1];
    };
    // Act & Assess
    expect(await listingOf('"1"')).toBe(await listingOf('"1"'));
    expect(await listingOf('"1"')).not.toBe(await listingOf('"2"'));
  });

  it('copies a file Athena would skip (a name starting with _ or .) to a plain name before naming it in a manifest', async () => {
    // Prepare
    s3.on(ListObjectsV2Command, { Prefix: 'lake/events/' }).resolves({
      Contents: [
        { Key: 'lake/events/dt=2024-05-30/_late batch.jsonl.gz', ETag: '"e"', Size: 1 },
        { Key: 'lake/events/dt=2024-05-30/ok.jsonl', ETag: '"e"', Size: 1 },
      ],
    });
    s3.on(ListObjectsV2Command, { Prefix: 'lake/identities/' }).resolves({});
    s3.on(CopyObjectCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});
    // Act
    await engine.lake();
    // Assess
    const copy = s3.commandCalls(CopyObjectCommand)[0]?.args[0].input;
    expect(copy?.CopySource).toBe('lake-bucket/lake/events/dt%3D2024-05-30/_late%20batch.jsonl.gz');
    expect(copy?.Bucket).toBe('results-bucket');
    expect(copy?.Key).toMatch(/^lake-files\/[0-9a-f]{32}\/copies\/[0-9a-f]{32}\.jsonl\.gz$/);
    const manifest = String(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Body);
    expect(manifest).toBe(`s3://results-bucket/${copy?.Key}\ns3://lake-bucket/lake/events/dt=2024-05-30/ok.jsonl\n`);
    // The copy exists before any manifest names it.
    expect(
      s3
        .calls()
        .map((call) => call.args[0].constructor.name)
        .filter((n) => n !== 'ListObjectsV2Command'),
    ).toEqual(['CopyObjectCommand', 'PutObjectCommand']);
  });

  it('fails the listing on a real date Athena cannot project, naming it', async () => {
    // Prepare
    s3.on(ListObjectsV2Command, { Prefix: 'lake/events/' }).resolves({
      Contents: [{ Key: 'lake/events/dt=1500-03-01/a.jsonl', ETag: '"e"', Size: 1 }],
    });
    s3.on(ListObjectsV2Command, { Prefix: 'lake/identities/' }).resolves({});
    // Act & Assess
    await expect(engine.lake()).rejects.toThrow(UnprojectableDateError);
    await expect(engine.lake()).rejects.toThrow('events/dt=1500-03-01/');
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('lists the files of refused records under events-errors/<type>/dt=<day>/ with their day, and nothing when there are none', async () => {
    // Prepare: two error outputs of the delivery stream, a file outside any day folder, a second page
    s3.on(ListObjectsV2Command, { Prefix: 'lake/events/' }).resolves({
      Contents: [{ Key: 'lake/events/dt=2024-05-20/ok.jsonl', ETag: '"e"', Size: 1 }],
    });
    s3.on(ListObjectsV2Command, { Prefix: 'lake/identities/' }).resolves({});
    s3.on(ListObjectsV2Command, { Prefix: 'lake/events-errors/' })
      .resolvesOnce({
        Contents: [
          { Key: 'lake/events-errors/partitioning-failed/dt=2024-05-20/s-1-2024-05-20-abc.jsonl.gz' },
          { Key: 'lake/events-errors/partitioning-failed/notes.txt' },
        ],
        IsTruncated: true,
        NextContinuationToken: 't-2',
      })
      .resolves({ Contents: [{ Key: 'lake/events-errors/format-conversion-failed/dt=2024-05-21/s-1-2024-05-21-def.gz' }] });
    s3.on(PutObjectCommand).resolves({});
    // Act
    const lake = await engine.lake();
    // Assess
    expect(lake.refused).toEqual({ location: 's3://lake-bucket/lake/events-errors/', days: ['2024-05-20', '2024-05-21'] });
    expect(s3).toHaveReceivedCommandWith(ListObjectsV2Command, {
      Bucket: 'lake-bucket',
      Prefix: 'lake/events-errors/',
      ContinuationToken: 't-2',
    });
    s3.on(ListObjectsV2Command, { Prefix: 'lake/events-errors/' }).resolves({});
    expect((await engine.lake()).refused).toBeUndefined();
  });

  it('leaves out events/ folders that are not dt= and a real date, and warns of each once, as the local reader does', async () => {
    // Prepare
    s3.on(ListObjectsV2Command, { Prefix: 'lake/events/' }).resolves({
      Contents: [
        { Key: 'lake/events/dt=2024-02-30/a.jsonl', ETag: '"a"', Size: 1 },
        { Key: 'lake/events/dt=2024-02-30/b.jsonl', ETag: '"b"', Size: 1 },
        { Key: 'lake/events/dt=2024-05-2x/c.jsonl', ETag: '"c"', Size: 1 },
        { Key: 'lake/events/date=2024-05-20/d.jsonl', ETag: '"d"', Size: 1 },
        { Key: 'lake/events/dt=2024-05-20/ok.jsonl', ETag: '"e"', Size: 1 },
      ],
    });
    s3.on(ListObjectsV2Command, { Prefix: 'lake/identities/' }).resolves({});
    s3.on(PutObjectCommand).resolves({});
    // Act
    const lake = await engine.lake();
    // Assess
    expect(lake.warnings).toEqual([
      's3://lake-bucket/lake/events/date=2024-05-20/ is not a dt=YYYY-MM-DD folder: not read',
      's3://lake-bucket/lake/events/dt=2024-02-30/ is not a dt=YYYY-MM-DD folder: not read',
      's3://lake-bucket/lake/events/dt=2024-05-2x/ is not a dt=YYYY-MM-DD folder: not read',
    ]);
    const manifests = s3.commandCalls(PutObjectCommand).map((call) => String(call.args[0].input.Body));
    expect(manifests).toEqual(['s3://lake-bucket/lake/events/dt=2024-05-20/ok.jsonl\n']);
    // The tile fingerprints record the events files of the same listing, and only those.
    s3.resetHistory();
    const listed = await engine.listLake();
    expect(listed.events.map((o) => [o.key, o.dt, o.etag, o.size])).toEqual([
      ['lake/events/dt=2024-05-20/ok.jsonl', '2024-05-20', '"e"', 1],
    ]);
  });

  it('reads some files of a listing on their own: manifests of a listing naming only those files', async () => {
    // Prepare
    s3.on(ListObjectsV2Command, { Prefix: 'lake/events/' }).resolves({
      Contents: [
        { Key: 'lake/events/dt=2024-05-20/a.jsonl', ETag: '"a"', Size: 1 },
        { Key: 'lake/events/dt=2024-05-21/b.jsonl', ETag: '"b"', Size: 1 },
      ],
    });
    s3.on(ListObjectsV2Command, { Prefix: 'lake/identities/' }).resolves({});
    s3.on(PutObjectCommand).resolves({});
    const listed = await engine.listLake();
    s3.resetHistory();
    // Act
    const only = await listed.eventsOf?.(listed.events.filter((o) => o.dt === '2024-05-21'));
    // Assess
    const puts = s3.commandCalls(PutObjectCommand).map((call) => [call.args[0].input.Key, String(call.args[0].input.Body)]);
    expect(puts).toEqual([
      [expect.stringMatching(/\/events-jsonl\/dt=2024-05-21\/files\.txt$/), 's3://lake-bucket/lake/events/dt=2024-05-21/b.jsonl\n'],
    ]);
    const listing = /listing = '([0-9a-f]+)'/.exec(only ?? '')?.[1];
    expect(listing).toBeDefined();
    expect(puts[0]?.[0]).toContain(`${listing}/`);
    expect(listed.view.relations.events).not.toContain(`'${listing}'`);
    expect(only).toContain("dt BETWEEN '2024-05-21' AND '2024-05-21'");
  });

  it('reads a cohort from the query result file in S3, in byte order, without paging GetQueryResults', async () => {
    // Prepare
    athena
      .on(GetQueryExecutionCommand)
      .resolves(succeeded({ ResultConfiguration: { OutputLocation: 's3://results-bucket/results/q-1.csv' } }));
    s3.on(GetObjectCommand).resolves({ Body: streamed('"person_id"\n"😀"\n"ﬀ', '"\n"b"\n"a, ""quoted""\n"\n') });
    s3.on(DeleteObjectsCommand).resolves({});
    // Act
    const members = await engine.members(EVALUATION, 'c_power_users');
    // Assess
    expect(members).toEqual(['a, "quoted"\n', 'b', 'ﬀ', '😀']);
    expect(athena).toHaveReceivedCommandExactlyOnceWith(StartQueryExecutionCommand, {
      QueryString: 'SELECT person_id FROM "cohort_refresh"."evaluation_r1" WHERE "c_power_users"',
      WorkGroup: 'cohort-refresh',
      QueryExecutionContext: { Database: 'cohort_refresh', Catalog: 'AwsDataCatalog' },
    });
    expect(s3).toHaveReceivedCommandExactlyOnceWith(GetObjectCommand, { Bucket: 'results-bucket', Key: 'results/q-1.csv' });
    expect(athena).not.toHaveReceivedCommand(GetQueryResultsCommand);
    // The result file holds person ids: deleted with its metadata once read, not left to the lifecycle rule.
    expect(s3).toHaveReceivedCommandExactlyOnceWith(DeleteObjectsCommand, {
      Bucket: 'results-bucket',
      Delete: { Objects: [{ Key: 'results/q-1.csv' }, { Key: 'results/q-1.csv.metadata' }], Quiet: true },
    });
    expect(s3.calls().map((call) => call.args[0].constructor.name)).toEqual(['GetObjectCommand', 'DeleteObjectsCommand']);
  });

  it('deletes the result file when reading it fails, and reports the reading error; fails when it cannot delete it', async () => {
    // Prepare: a result that is not one person_id column
    athena
      .on(GetQueryExecutionCommand)
      .resolves(succeeded({ ResultConfiguration: { OutputLocation: 's3://results-bucket/results/q-1.csv' } }));
    s3.on(GetObjectCommand).resolves({ Body: streamed('"person_id","extra"\n"a","b"\n') });
    s3.on(DeleteObjectsCommand).resolves({});
    // Act & Assess
    await expect(engine.members(EVALUATION, 'c_x')).rejects.toThrow('has columns person_id, extra, not person_id');
    expect(s3).toHaveReceivedCommandTimes(DeleteObjectsCommand, 1);
    // A result read but left behind is a failure: the step retries it.
    s3.on(GetObjectCommand).resolves({ Body: streamed('"person_id"\n"a"\n') });
    s3.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'results/q-1.csv', Code: 'AccessDenied', Message: 'Access Denied' }] });
    await expect(engine.members(EVALUATION, 'c_x')).rejects.toThrow(
      'could not delete 1 files of s3://results-bucket/results/q-1.csv: AccessDenied',
    );
  });

  it('never deletes a result file outside the results prefix', async () => {
    athena.on(GetQueryExecutionCommand).resolves(succeeded({ ResultConfiguration: { OutputLocation: 's3://lake-bucket/lake/q-1.csv' } }));
    s3.on(GetObjectCommand).resolves({ Body: streamed('"person_id"\n"a"\n') });

    await expect(engine.members(EVALUATION, 'c_x')).rejects.toBeInstanceOf(InvalidS3LocationError);
    expect(s3).not.toHaveReceivedCommand(DeleteObjectsCommand);
  });

  it('refuses to read or release anything but an evaluation table, before calling AWS', async () => {
    const bad = { location: 'events_json; DROP TABLE x', population: 0 };

    await expect(engine.members(bad, 'c_x')).rejects.toBeInstanceOf(NotAnEvaluationError);
    await expect(engine.release(bad)).rejects.toBeInstanceOf(NotAnEvaluationError);
    expect(athena).not.toHaveReceivedCommand(StartQueryExecutionCommand);
    expect(glue).not.toHaveReceivedCommand(GetTableCommand);
  });

  it('surfaces a failed members query and a throttled result read with their named errors', async () => {
    // Prepare
    athena.on(GetQueryExecutionCommand).resolvesOnce({
      QueryExecution: { QueryExecutionId: 'q-1', Status: { State: 'FAILED', StateChangeReason: 'COLUMN_NOT_FOUND: c_x' } },
    });
    // Act & Assess
    await expect(engine.members(EVALUATION, 'c_x')).rejects.toBeInstanceOf(AthenaQueryFailedError);
    athena
      .on(GetQueryExecutionCommand)
      .resolves(succeeded({ ResultConfiguration: { OutputLocation: 's3://results-bucket/results/q-1.csv' } }));
    s3.on(GetObjectCommand).rejects(serviceError({ name: 'SlowDown', status: 503 }));
    await expect(engine.members(EVALUATION, 'c_x')).rejects.toMatchObject({ name: 'ThrottledError', operation: 'S3.GetObject' });
  });

  it('releases an evaluation: deletes its files under the results prefix, then its Glue table', async () => {
    // Prepare
    glue
      .on(GetTableCommand)
      .resolves({ Table: { Name: 'evaluation_r1', StorageDescriptor: { Location: 's3://results-bucket/results/tables/q-0' } } });
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'results/tables/q-0/a' }, { Key: 'results/tables/q-0/b' }] });
    s3.on(DeleteObjectsCommand).resolves({});
    glue.on(DeleteTableCommand).resolves({});
    // Act
    await engine.release(EVALUATION);
    // Assess
    expect(glue).toHaveReceivedCommandWith(GetTableCommand, { DatabaseName: 'cohort_refresh', Name: 'evaluation_r1' });
    expect(s3).toHaveReceivedCommandWith(ListObjectsV2Command, { Bucket: 'results-bucket', Prefix: 'results/tables/q-0/' });
    expect(s3).toHaveReceivedCommandExactlyOnceWith(DeleteObjectsCommand, {
      Bucket: 'results-bucket',
      Delete: { Objects: [{ Key: 'results/tables/q-0/a' }, { Key: 'results/tables/q-0/b' }], Quiet: true },
    });
    expect(glue).toHaveReceivedCommandExactlyOnceWith(DeleteTableCommand, { DatabaseName: 'cohort_refresh', Name: 'evaluation_r1' });
  });

  it('does nothing when releasing an evaluation that is already gone (a retried step)', async () => {
    glue.on(GetTableCommand).rejects(new EntityNotFoundException({ $metadata: {}, message: 'Table evaluation_r1 not found.' }));

    await engine.release(EVALUATION);

    expect(s3).not.toHaveReceivedCommand(DeleteObjectsCommand);
    expect(glue).not.toHaveReceivedCommand(DeleteTableCommand);
  });

  it('keeps the table when its files cannot all be deleted, and never deletes outside the results prefix', async () => {
    // Prepare
    glue
      .on(GetTableCommand)
      .resolvesOnce({ Table: { Name: 'evaluation_r1', StorageDescriptor: { Location: 's3://results-bucket/results/tables/q-0/' } } });
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'results/tables/q-0/a' }] });
    s3.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'results/tables/q-0/a', Code: 'AccessDenied', Message: 'Access Denied' }] });
    // Act & Assess
    await expect(engine.release(EVALUATION)).rejects.toThrow(
      'could not delete 1 files of s3://results-bucket/results/tables/q-0/: AccessDenied',
    );
    glue
      .on(GetTableCommand)
      .resolves({ Table: { Name: 'evaluation_r1', StorageDescriptor: { Location: 's3://lake-bucket/lake/events/' } } });
    await expect(engine.release(EVALUATION)).rejects.toBeInstanceOf(InvalidS3LocationError);
    expect(s3).toHaveReceivedCommandTimes(DeleteObjectsCommand, 1);
    expect(glue).not.toHaveReceivedCommand(DeleteTableCommand);
  });

  it('returns the rows of a small query as column-named text', async () => {
    // Prepare
    athena.on(GetQueryExecutionCommand).resolves(succeeded());
    athena.on(GetQueryResultsCommand).resolves({
      ResultSet: {
        ResultSetMetadata: {
          ColumnInfo: [
            { Name: 'grain', Type: 'varchar' },
            { Name: 'row_count', Type: 'bigint' },
          ],
        },
        Rows: [{ Data: [{ VarCharValue: 'grain' }, { VarCharValue: 'row_count' }] }, { Data: [{ VarCharValue: 'lake' }, {}] }],
      },
    });
    // Act
    const rows = await engine.rows('SELECT 1');
    // Assess
    expect(rows).toEqual([{ grain: 'lake', row_count: null }]);
  });

  it('totals the KPIs of a cohort column in one small query and reads them as numbers', async () => {
    // Prepare
    athena.on(GetQueryExecutionCommand).resolves(succeeded());
    athena.on(GetQueryResultsCommand).resolves({
      ResultSet: {
        ResultSetMetadata: {
          ColumnInfo: [
            { Name: 'size', Type: 'bigint' },
            { Name: 'activated', Type: 'bigint' },
            { Name: 'value_sum', Type: 'double' },
          ],
        },
        Rows: [
          { Data: [{ VarCharValue: 'size' }, { VarCharValue: 'activated' }, { VarCharValue: 'value_sum' }] },
          { Data: [{ VarCharValue: '120' }, { VarCharValue: '45' }, { VarCharValue: '1.25E4' }] },
        ],
      },
    });
    // Act
    const totals = await engine.kpis(EVALUATION, 'c_payers', { activated: 'm_activated', value: 'm_value' });
    // Assess
    expect(totals).toEqual({ size: 120, activated: 45, value_sum: 12_500 });
    expect(athena).toHaveReceivedCommandExactlyOnceWith(StartQueryExecutionCommand, {
      QueryString:
        'SELECT count(*) AS size, count_if("m_activated") AS activated, coalesce(sum("m_value"), 0) AS value_sum FROM "cohort_refresh"."evaluation_r1" WHERE "c_payers"',
      WorkGroup: 'cohort-refresh',
    });
  });

  it('evaluates in-process with the CTAS of the Evaluate state and counts the population from its statistics', async () => {
    // Prepare
    athena.on(GetQueryExecutionCommand).resolves(succeeded({ StatementType: 'DDL', SubstatementType: 'CREATE_TABLE_AS_SELECT' }));
    athena.on(GetQueryRuntimeStatisticsCommand).resolves({ QueryRuntimeStatistics: { Rows: { OutputRows: 3041 } } });
    // Act
    const result = await engine.evaluate('SELECT 1', 'R-1');
    // Assess
    expect(result).toEqual({ location: 'evaluation_r_1', population: 3041 });
    expect(athena).toHaveReceivedCommandWith(StartQueryExecutionCommand, {
      QueryString: `CREATE TABLE "cohort_refresh"."evaluation_r_1" WITH (format = 'PARQUET') AS\nSELECT 1`,
    });
    expect(athena).toHaveReceivedCommandWith(GetQueryRuntimeStatisticsCommand, { QueryExecutionId: 'q-1' });
  });
});

describe('the Athena evaluation lookup', () => {
  beforeEach(() => {
    athena.reset();
  });

  const ctas = (runId: string) =>
    succeeded({
      Query: `CREATE TABLE "cohort_refresh"."evaluation_${runId}" WITH (format = 'PARQUET') AS\nSELECT 1`,
      StatementType: 'DDL',
    });

  it("finds a run's evaluation table and its population from the CTAS statistics", async () => {
    // Prepare
    athena.on(GetQueryExecutionCommand).resolves(ctas('r1'));
    athena.on(GetQueryRuntimeStatisticsCommand).resolves({ QueryRuntimeStatistics: { Rows: { InputRows: 10_000, OutputRows: 3041 } } });
    // Act
    const found = await evaluations.find('r1', { query_execution_id: 'q-1' });
    // Assess
    expect(found).toEqual({ location: 'evaluation_r1', population: 3041 });
    expect(athena).toHaveReceivedCommandExactlyOnceWith(GetQueryExecutionCommand, { QueryExecutionId: 'q-1' });
    expect(athena).toHaveReceivedCommandExactlyOnceWith(GetQueryRuntimeStatisticsCommand, { QueryExecutionId: 'q-1' });
  });

  it("refuses another run's query", async () => {
    athena.on(GetQueryExecutionCommand).resolves(ctas('r2'));

    await expect(evaluations.find('r1', { query_execution_id: 'q-1' })).rejects.toBeInstanceOf(EvaluationNotFoundError);
    expect(athena).not.toHaveReceivedCommand(GetQueryRuntimeStatisticsCommand);
  });

  it('counts the table when Athena reports no output rows', async () => {
    // Prepare
    athena.on(GetQueryExecutionCommand, { QueryExecutionId: 'q-1' }).resolves(ctas('r1'));
    athena.on(GetQueryRuntimeStatisticsCommand).resolves({ QueryRuntimeStatistics: {} });
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-count' });
    athena.on(GetQueryExecutionCommand, { QueryExecutionId: 'q-count' }).resolves(succeeded({ QueryExecutionId: 'q-count' }));
    athena
      .on(GetQueryResultsCommand)
      .resolves({ ResultSet: { Rows: [{ Data: [{ VarCharValue: 'population' }] }, { Data: [{ VarCharValue: '3041' }] }] } });
    // Act
    const found = await evaluations.find('r1', { query_execution_id: 'q-1' });
    // Assess
    expect(found.population).toBe(3041);
    expect(athena).toHaveReceivedCommandWith(StartQueryExecutionCommand, {
      QueryString: 'SELECT count(*) AS population FROM "cohort_refresh"."evaluation_r1"',
    });
  });

  it('retries nothing itself: throttling reaches the state machine as ThrottledError', async () => {
    athena.on(GetQueryExecutionCommand).rejects(serviceError({ name: 'ThrottlingException', status: 400, throttling: true }));

    await expect(evaluations.find('r1', { query_execution_id: 'q-1' })).rejects.toBeInstanceOf(ThrottledError);
  });
});
