import { createHash } from 'node:crypto';
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
  DeleteObjectsCommand,
  GetObjectCommand,
  CopyObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { objectBody } from '../cloud/support.ts';

/** One query the fake Athena knows: how it ends and what it wrote. */
export interface FakeQuery {
  readonly id: string;
  readonly sql: string;
  /** `SUCCEEDED` unless a test says otherwise. */
  state: 'SUCCEEDED' | 'FAILED';
  reason?: string;
  /** Header and rows GetQueryResults pages out. */
  rows?: string[][];
  /** Where its CSV result lives, when it is a SELECT. */
  outputLocation?: string;
  outputRows?: number;
}

/**
 * AWS as the handlers see it, in memory, behind aws-sdk-client-mock: S3 buckets honouring
 * If-None-Match and If-Match with ETags, Athena queries answered by a test's `answer`, Glue
 * tables, SNS, EventBridge and the privacy key secret. Tests assert the exact commands on the mocks.
 */
export class FakeAws {
  readonly s3 = mockClient(S3Client);
  readonly athena = mockClient(AthenaClient);
  readonly glue = mockClient(GlueClient);
  readonly sns = mockClient(SNSClient);
  readonly events = mockClient(EventBridgeClient);
  readonly secrets = mockClient(SecretsManagerClient);
  /** The privacy key secret's value: a generated key, then an older one (a salt kept before the key moved to the secret). */
  readonly privacyKey = `a-generated-privacy-key-0123456789abcdef\n${'c0ffee'.repeat(8)}\n`;
  readonly buckets = new Map<string, Map<string, { body: Uint8Array; etag: string }>>();
  readonly queries = new Map<string, FakeQuery>();
  readonly tables = new Map<string, string>();
  private started = 0;

  /** How a started query ends; by default it succeeds with no rows. */
  answer: (query: FakeQuery) => void = () => {};
  /** Called after every object written, e.g. to let another run write in between. */
  afterPut: (bucket: string, key: string) => void = () => {};

  reset(): void {
    for (const mock of [this.s3, this.athena, this.glue, this.sns, this.events, this.secrets]) mock.reset();
    this.secrets.on(GetSecretValueCommand).callsFake(() => ({ SecretString: this.privacyKey }));
    this.buckets.clear();
    this.queries.clear();
    this.tables.clear();
    this.started = 0;
    this.answer = () => {};
    this.afterPut = () => {};
    this.wireS3();
    this.wireAthena();
    this.wireGlue();
    this.sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    this.events
      .on(PutEventsCommand)
      .callsFake(({ Entries }) => ({ FailedEntryCount: 0, Entries: Entries.map((_: unknown, i: number) => ({ EventId: `ev-${i}` })) }));
  }

  put(bucket: string, key: string, body: string | Uint8Array): void {
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
    const objects = this.buckets.get(bucket) ?? new Map();
    objects.set(key, { body: bytes, etag: `"${createHash('md5').update(bytes).digest('hex')}"` });
    this.buckets.set(bucket, objects);
  }

  text(bucket: string, key: string): string | undefined {
    const object = this.buckets.get(bucket)?.get(key);
    return object && Buffer.from(object.body).toString('utf8');
  }

  keys(bucket: string): string[] {
    return [...(this.buckets.get(bucket)?.keys() ?? [])].sort();
  }

  /** A query that has already run, such as the Evaluate state's CTAS. */
  ran(query: Omit<FakeQuery, 'state'> & { state?: FakeQuery['state'] }): void {
    this.queries.set(query.id, { state: 'SUCCEEDED', ...query });
  }

  private wireS3(): void {
    const failed = (name: string, status: number) =>
      new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });
    this.s3.on(GetObjectCommand).callsFake(({ Bucket, Key, Range, IfMatch }) => {
      const object = this.buckets.get(Bucket)?.get(Key);
      if (!object) throw new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' });
      if (IfMatch !== undefined && IfMatch !== object.etag) throw failed('PreconditionFailed', 412);
      // The bytes as stored (Parquet is not UTF-8), or the range `bytes=a-b` of them.
      const [, from, to] = /^bytes=(\d+)-(\d+)$/.exec(Range ?? '') ?? [];
      return { Body: objectBody(from === undefined ? object.body : object.body.subarray(Number(from), Number(to) + 1)), ETag: object.etag };
    });
    this.s3.on(PutObjectCommand).callsFake(({ Bucket, Key, Body, IfNoneMatch, IfMatch }) => {
      const existing = this.buckets.get(Bucket)?.get(Key);
      if (IfNoneMatch === '*' && existing) throw failed('PreconditionFailed', 412);
      if (IfMatch !== undefined && existing?.etag !== IfMatch)
        throw failed(existing ? 'PreconditionFailed' : 'NoSuchKey', existing ? 412 : 404);
      this.put(Bucket, Key, Body);
      const etag = this.buckets.get(Bucket)?.get(Key)?.etag;
      this.afterPut(Bucket, Key);
      return { ETag: etag };
    });
    this.s3.on(ListObjectsV2Command).callsFake(({ Bucket, Prefix = '', Delimiter }) => {
      const keys = this.keys(Bucket).filter((k) => k.startsWith(Prefix));
      if (!Delimiter) {
        const objects = this.buckets.get(Bucket);
        return {
          Contents: keys.map((Key) => ({ Key, ETag: objects?.get(Key)?.etag, Size: objects?.get(Key)?.body.length })),
          IsTruncated: false,
        };
      }
      const folders = new Set(
        keys
          .map((k) => k.slice(Prefix.length))
          .filter((rest) => rest.includes(Delimiter))
          .map((rest) => rest.slice(0, rest.indexOf(Delimiter) + 1)),
      );
      return { CommonPrefixes: [...folders].map((f) => ({ Prefix: Prefix + f })), IsTruncated: false };
    });
    this.s3.on(CopyObjectCommand).callsFake(({ Bucket, Key, CopySource }) => {
      const slash = CopySource.indexOf('/');
      const source = this.buckets.get(CopySource.slice(0, slash))?.get(decodeURIComponent(CopySource.slice(slash + 1)));
      if (!source) throw failed('NoSuchKey', 404);
      this.put(Bucket, Key, source.body);
      return {};
    });
    this.s3.on(DeleteObjectsCommand).callsFake(({ Bucket, Delete }) => {
      for (const { Key } of Delete.Objects) this.buckets.get(Bucket)?.delete(Key);
      return {};
    });
  }

  private wireAthena(): void {
    this.athena.on(StartQueryExecutionCommand).callsFake(({ QueryString }) => {
      const query: FakeQuery = { id: `q-${++this.started}`, sql: QueryString, state: 'SUCCEEDED' };
      this.answer(query);
      this.queries.set(query.id, query);
      return { QueryExecutionId: query.id };
    });
    this.athena.on(GetQueryExecutionCommand).callsFake(({ QueryExecutionId }) => {
      const query = this.queries.get(QueryExecutionId);
      if (!query) throw new Error(`no query ${QueryExecutionId}`);
      const select = /^(SELECT|WITH|--)/.test(query.sql);
      const execution: QueryExecution = {
        QueryExecutionId,
        Query: query.sql,
        StatementType: select ? 'DML' : 'DDL',
        ...(select ? { SubstatementType: 'SELECT' } : {}),
        Status: { State: query.state, ...(query.reason ? { StateChangeReason: query.reason } : {}) },
        Statistics: { DataScannedInBytes: 1024 },
        ...(query.outputLocation ? { ResultConfiguration: { OutputLocation: query.outputLocation } } : {}),
      };
      return { QueryExecution: execution };
    });
    this.athena.on(GetQueryResultsCommand).callsFake(({ QueryExecutionId }) => {
      const rows = this.queries.get(QueryExecutionId)?.rows ?? [['x']];
      return {
        ResultSet: {
          ResultSetMetadata: { ColumnInfo: (rows[0] ?? []).map((Name) => ({ Name, Type: 'varchar' })) },
          Rows: rows.map((row) => ({ Data: row.map((v) => (v === '' ? {} : { VarCharValue: v })) })),
        },
      };
    });
    this.athena.on(GetQueryRuntimeStatisticsCommand).callsFake(({ QueryExecutionId }) => ({
      QueryRuntimeStatistics: { Rows: { OutputRows: this.queries.get(QueryExecutionId)?.outputRows } },
    }));
  }

  private wireGlue(): void {
    const notFound = (name: string) =>
      new EntityNotFoundException({ $metadata: { httpStatusCode: 400 }, message: `Table ${name} not found.` });
    this.glue.on(GetTableCommand).callsFake(({ Name }) => {
      const location = this.tables.get(Name);
      if (location === undefined) throw notFound(Name);
      return { Table: { Name, StorageDescriptor: { Location: location } } };
    });
    this.glue.on(DeleteTableCommand).callsFake(({ Name }) => {
      if (!this.tables.delete(Name)) throw notFound(Name);
      return {};
    });
  }
}
