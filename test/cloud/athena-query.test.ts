import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetQueryRuntimeStatisticsCommand,
  type QueryExecution,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  AthenaQueryCancelledError,
  AthenaQueryFailedError,
  AthenaQueryRetryableError,
  AthenaQueryRunner,
  type AthenaQueryRunnerOptions,
  AthenaQueryTimeoutError,
  unloadStatement,
} from '../../shared/cloud/athena-query.ts';
import { InvalidS3LocationError, ThrottledError } from '../../shared/cloud/errors.ts';
import './support.ts';

const athena = mockClient(AthenaClient);
const client = new AthenaClient({ region: 'eu-central-1' });

/** A runner whose pauses are recorded instead of waited. */
function runner(options: Partial<AthenaQueryRunnerOptions> = {}) {
  const pauses: number[] = [];
  const sleep = async (ms: number) => {
    pauses.push(ms);
  };
  return { pauses, runner: new AthenaQueryRunner(client, { workGroup: 'cohort-refresh', database: 'cohort_refresh', sleep, ...options }) };
}

const execution = (state: string, extra: Partial<QueryExecution> = {}) => ({
  QueryExecution: { QueryExecutionId: 'q-1', Status: { State: state }, ...extra } as QueryExecution,
});

const succeededSelect = execution('SUCCEEDED', {
  StatementType: 'DML',
  SubstatementType: 'SELECT',
  Statistics: {
    DataScannedInBytes: 1_234_567,
    EngineExecutionTimeInMillis: 2_100,
    TotalExecutionTimeInMillis: 2_400,
    QueryQueueTimeInMillis: 120,
  },
  ResultConfiguration: { OutputLocation: 's3://results-bucket/results/q-1.csv' },
});

const row = (...values: (string | undefined)[]) => ({ Data: values.map((v) => (v === undefined ? {} : { VarCharValue: v })) });
const columns = {
  ResultSetMetadata: {
    ColumnInfo: [
      { Name: 'person_id', Type: 'varchar' },
      { Name: 'c_power_users', Type: 'boolean' },
    ],
  },
};

describe('the Athena query runner', () => {
  beforeEach(() => {
    athena.reset();
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
  });

  it('starts a query in the workgroup with the database as context', async () => {
    // Prepare
    const { runner: r } = runner();

    // Act
    const id = await r.start('SELECT 1');

    // Assess
    expect(id).toBe('q-1');
    expect(athena).toHaveReceivedCommandExactlyOnceWith(StartQueryExecutionCommand, {
      QueryString: 'SELECT 1',
      WorkGroup: 'cohort-refresh',
      QueryExecutionContext: { Database: 'cohort_refresh', Catalog: 'AwsDataCatalog' },
    });
    expect(athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input).not.toHaveProperty('ClientRequestToken');
  });

  it('passes a client request token so a retried step does not start a second query', async () => {
    // Prepare
    const { runner: r } = runner();
    const token = 'run-2024-06-01T00-00-00Z-0000000000000001';

    // Act
    await r.start('SELECT 1', token);

    // Assess
    expect(athena).toHaveReceivedCommandWith(StartQueryExecutionCommand, { ClientRequestToken: token });
  });

  it('polls with exponential backoff up to the longest pause, then reads every page of rows without the header', async () => {
    // Prepare
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('QUEUED'))
      .resolvesOnce(execution('RUNNING'))
      .resolvesOnce(execution('RUNNING'))
      .resolvesOnce(execution('RUNNING'))
      .resolvesOnce(execution('RUNNING'))
      .resolves(succeededSelect);
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce({ ResultSet: { ...columns, Rows: [row('person_id', 'c_power_users'), row('p1', 'true')] }, NextToken: 'page-2' })
      .resolvesOnce({ ResultSet: { ...columns, Rows: [row('p2', 'false'), row('p3', undefined)] } });
    const { runner: r, pauses } = runner({ firstDelayMs: 100, maxDelayMs: 500 });

    // Act
    const result = await r.query('SELECT person_id, c_power_users FROM t');

    // Assess
    expect(pauses).toEqual([100, 200, 400, 500, 500]);
    expect(athena).toHaveReceivedCommandTimes(GetQueryExecutionCommand, 6);
    expect(athena).toHaveReceivedCommandWith(GetQueryExecutionCommand, { QueryExecutionId: 'q-1' });
    expect(athena).toHaveReceivedNthCommandWith(GetQueryResultsCommand, 1, {
      QueryExecutionId: 'q-1',
      NextToken: undefined,
      MaxResults: 1000,
    });
    expect(athena).toHaveReceivedNthCommandWith(GetQueryResultsCommand, 2, {
      QueryExecutionId: 'q-1',
      NextToken: 'page-2',
      MaxResults: 1000,
    });
    expect(result).toEqual({
      queryId: 'q-1',
      columns: ['person_id', 'c_power_users'],
      rows: [
        ['p1', 'true'],
        ['p2', 'false'],
        ['p3', null],
      ],
      statistics: {
        dataScannedInBytes: 1_234_567,
        engineExecutionTimeInMillis: 2_100,
        totalExecutionTimeInMillis: 2_400,
        queryQueueTimeInMillis: 120,
      },
      outputLocation: 's3://results-bucket/results/q-1.csv',
    });
  });

  it('keeps the first row of a statement that is not a SELECT', async () => {
    // Prepare
    athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED', { StatementType: 'UTILITY', SubstatementType: 'SHOW_TABLES' }));
    athena.on(GetQueryResultsCommand).resolves({ ResultSet: { Rows: [row('events_json'), row('events_parquet')] } });
    const { runner: r } = runner();

    // Act
    const result = await r.query('SHOW TABLES');

    // Assess
    expect(result.rows).toEqual([['events_json'], ['events_parquet']]);
    expect(result.statistics).toEqual({ dataScannedInBytes: 0 });
  });

  it('fails with AthenaQueryFailedError carrying the reason and the query id', async () => {
    // Prepare
    athena.on(GetQueryExecutionCommand).resolves(
      execution('FAILED', {
        Status: {
          State: 'FAILED',
          StateChangeReason: "COLUMN_NOT_FOUND: line 3:8: Column 'x' cannot be resolved",
          AthenaError: { ErrorCategory: 2, ErrorType: 1006, Retryable: false },
        },
      }),
    );
    const { runner: r } = runner();

    // Act
    const running = r.query('SELECT x FROM t');

    // Assess
    await expect(running).rejects.toBeInstanceOf(AthenaQueryFailedError);
    await expect(running).rejects.toMatchObject({
      name: 'AthenaQueryFailedError',
      queryId: 'q-1',
      reason: "COLUMN_NOT_FOUND: line 3:8: Column 'x' cannot be resolved",
      errorCategory: 2,
      errorType: 1006,
      message: "Athena query q-1 failed: COLUMN_NOT_FOUND: line 3:8: Column 'x' cannot be resolved",
    });
    expect(athena).not.toHaveReceivedCommand(GetQueryResultsCommand);
  });

  it('fails with AthenaQueryRetryableError when Athena marks the failure retryable', async () => {
    // Prepare
    athena.on(GetQueryExecutionCommand).resolves(
      execution('FAILED', {
        Status: {
          State: 'FAILED',
          StateChangeReason: 'HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split: Slow Down',
          AthenaError: { ErrorCategory: 1, ErrorType: 1000, Retryable: true },
        },
      }),
    );
    const { runner: r } = runner();

    // Act
    const running = r.execute('SELECT 1');

    // Assess
    await expect(running).rejects.toBeInstanceOf(AthenaQueryRetryableError);
    await expect(running).rejects.toMatchObject({ name: 'AthenaQueryRetryableError', queryId: 'q-1' });
  });

  it('fails with AthenaQueryCancelledError when the query was cancelled', async () => {
    // Prepare
    athena
      .on(GetQueryExecutionCommand)
      .resolves(execution('CANCELLED', { Status: { State: 'CANCELLED', StateChangeReason: 'Query cancelled by user' } }));
    const { runner: r } = runner();

    // Act
    const running = r.execute('SELECT 1');

    // Assess
    await expect(running).rejects.toBeInstanceOf(AthenaQueryCancelledError);
    await expect(running).rejects.toThrow('Athena query q-1 was cancelled: Query cancelled by user');
  });

  it('stops the query and raises AthenaQueryTimeoutError once the longest wait is spent', async () => {
    // Prepare
    athena.on(GetQueryExecutionCommand).resolves(execution('RUNNING'));
    athena.on(StopQueryExecutionCommand).resolves({});
    const { runner: r, pauses } = runner({ firstDelayMs: 1_000, maxDelayMs: 4_000, maxWaitMs: 10_000 });

    // Act
    const running = r.execute('SELECT 1');

    // Assess
    await expect(running).rejects.toBeInstanceOf(AthenaQueryTimeoutError);
    await expect(running).rejects.toMatchObject({ queryId: 'q-1', waitedMs: 10_000 });
    expect(pauses).toEqual([1_000, 2_000, 4_000, 3_000]);
    expect(athena).toHaveReceivedCommandExactlyOnceWith(StopQueryExecutionCommand, { QueryExecutionId: 'q-1' });
  });

  it('stops the query and raises AthenaQueryTimeoutError once the invocation has no time left, before the longest wait', async () => {
    // Prepare: an invocation with 6.5 s left for its waits (each pause spends it), the longest wait 10 s
    athena.on(GetQueryExecutionCommand).resolves(execution('RUNNING'));
    athena.on(StopQueryExecutionCommand).resolves({});
    let left = 6_500;
    const pauses: number[] = [];
    const sleep = async (ms: number) => {
      pauses.push(ms);
      left -= ms;
    };
    const r = new AthenaQueryRunner(client, {
      workGroup: 'cohort-refresh',
      database: 'cohort_refresh',
      sleep,
      firstDelayMs: 1_000,
      maxDelayMs: 4_000,
      maxWaitMs: 10_000,
      remainingMs: () => left,
    });

    // Act
    const running = r.execute('SELECT 1');

    // Assess: the last pause is cut to what was left, then the query is stopped (Lambda would have ended the wait, not the query)
    await expect(running).rejects.toMatchObject({ name: 'AthenaQueryTimeoutError', queryId: 'q-1', waitedMs: 6_500 });
    expect(pauses).toEqual([1_000, 2_000, 3_500]);
    expect(athena).toHaveReceivedCommandExactlyOnceWith(StopQueryExecutionCommand, { QueryExecutionId: 'q-1' });
  });

  it('surfaces throttling as ThrottledError', async () => {
    // Prepare
    athena.on(StartQueryExecutionCommand).rejects(
      new TooManyRequestsException({
        $metadata: { httpStatusCode: 400 },
        message: 'Rate exceeded',
        Reason: 'CONCURRENT_QUERY_LIMIT_EXCEEDED',
      }),
    );
    const { runner: r } = runner();

    // Act
    const running = r.query('SELECT 1');

    // Assess
    await expect(running).rejects.toBeInstanceOf(ThrottledError);
    await expect(running).rejects.toMatchObject({ name: 'ThrottledError', operation: 'Athena.StartQueryExecution' });
    await expect(running).rejects.toThrow('Athena.StartQueryExecution was throttled: Rate exceeded');
  });

  it('reads the rows a finished query wrote from its runtime statistics, and undefined when none are reported', async () => {
    // Prepare
    athena
      .on(GetQueryRuntimeStatisticsCommand)
      .resolvesOnce({ QueryRuntimeStatistics: { Rows: { InputRows: 9_000, OutputRows: 3_041 } } })
      .resolves({ QueryRuntimeStatistics: {} });
    const { runner: r } = runner();

    // Act
    const reported = await r.outputRows('q-1');
    const unreported = await r.outputRows('q-1');

    // Assess
    expect(reported).toBe(3_041);
    expect(unreported).toBeUndefined();
    expect(athena).toHaveReceivedCommandWith(GetQueryRuntimeStatisticsCommand, { QueryExecutionId: 'q-1' });
  });

  describe('UNLOAD to Parquet', () => {
    it('wraps the compiled SQL in UNLOAD with the folder as a literal', async () => {
      // Prepare
      athena
        .on(GetQueryExecutionCommand)
        .resolves(execution('SUCCEEDED', { StatementType: 'DML', SubstatementType: 'UNLOAD', Statistics: { DataScannedInBytes: 42 } }));
      const { runner: r } = runner();
      const sql = '-- cohort-refresh: 1 cohorts\nSELECT person_id FROM t';

      // Act
      const result = await r.unloadToParquet(sql, 's3://snapshots-bucket/staging/run=r-1/cohort=a/');

      // Assess
      expect(athena).toHaveReceivedCommandWith(StartQueryExecutionCommand, {
        QueryString:
          "UNLOAD (\n-- cohort-refresh: 1 cohorts\nSELECT person_id FROM t\n) TO 's3://snapshots-bucket/staging/run=r-1/cohort=a/' WITH (format = 'PARQUET')",
      });
      expect(result).toEqual({
        queryId: 'q-1',
        statistics: { dataScannedInBytes: 42 },
        location: 's3://snapshots-bucket/staging/run=r-1/cohort=a/',
      });
      expect(athena).not.toHaveReceivedCommand(GetQueryResultsCommand);
    });

    it.each([
      "s3://bucket/it's/",
      's3://bucket/a"b/',
      's3://bucket/no-trailing-slash',
      's3://bucket/with space/',
      's3://Bucket/x/',
      'https://bucket.s3.amazonaws.com/x/',
      "s3://bucket/x/' WITH (format = 'JSON') --/",
    ])('refuses %j as a destination before starting anything', async (uri) => {
      // Prepare
      const { runner: r } = runner();

      // Act
      const unloading = r.unloadToParquet('SELECT 1', uri);

      // Assess
      await expect(unloading).rejects.toBeInstanceOf(InvalidS3LocationError);
      expect(athena).not.toHaveReceivedCommand(StartQueryExecutionCommand);
      expect(() => unloadStatement('SELECT 1', uri)).toThrow(InvalidS3LocationError);
    });
  });
});
