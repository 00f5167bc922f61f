import 'aws-sdk-client-mock-vitest/extend';
import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetQueryRuntimeStatisticsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteTableCommand, GetTableCommand } from '@aws-sdk/client-glue';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { PublishCommand } from '@aws-sdk/client-sns';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidConfigError, readConfig, readDeliveryConfig } from '../../functions/commons/config.ts';
import type { CohortOutcome } from '../../shared/engine/snapshot-cohort.ts';
import type { Manifest } from '../../shared/store/manifest.ts';
import { ParquetMembersCodec } from '../../shared/store/parquet-members-codec.ts';
import type { WorkflowPlan, WorkflowSummary } from '../../shared/workflow/types.ts';
import { FakeAws } from './fake-aws.ts';
import { CTAS_ID, ENVIRONMENT, EVALUATION, TILES, type Handler, loadHandlers, planEvent, RUN, givenDeployment } from './handler-support.ts';

const aws = new FakeAws();
let handlers: Record<string, Handler> = {};
const plan = async () => ((await handlers.Plan!(planEvent)) as { plan: WorkflowPlan }).plan;

describe('the Lambda handlers', () => {
  beforeAll(async () => {
    handlers = await loadHandlers();
  });

  beforeEach(() => {
    aws.reset();
    givenDeployment(aws);
  });

  it.each<[string, unknown, string[]]>([
    ['Plan', { request: { cohort: 'payers' }, run_id: 'r1', started_at: '2024-06-01T00:00:00Z' }, ['request: Unrecognized key: "cohort"']],
    ['Plan', { request: {}, run_id: 'has spaces', started_at: 'yesterday' }, ['run_id:', 'started_at:']],
    ['Snapshot', { plan: {}, cohort: 'Payers', evaluation: {} }, ['plan.run_id:', 'cohort:', 'evaluation.query_execution_id:']],
    [
      'Deliver',
      { outcome: { cohort: 'payers', status: 'exported', version: 0 }, run_id: 'r 1' },
      ['outcome.status:', 'outcome.version:', 'run_id:'],
    ],
    [
      'Finish',
      { evaluation: { query_execution_id: 'q' }, snapshots: [{ cohort: 'payers', status: 'done' }] },
      ['plan:', 'snapshots.0.status:'],
    ],
    ['AlertFailure', { error: 'boom' }, ['error:', 'failed:']],
  ])('%s rejects a malformed event with a named error listing every problem', async (step, event, problems) => {
    // Act
    const result = handlers[step]?.(event);
    // Assess
    await expect(result).rejects.toMatchObject({ name: 'InvalidEventError', step });
    const error = (await result?.catch((e: unknown) => e)) as { problems: string[] };
    for (const problem of problems)
      expect(
        error.problems.some((p) => p.startsWith(problem)),
        problem,
      ).toBe(true);
    expect(aws.sns).not.toHaveReceivedCommand(PublishCommand);
    expect(aws.athena).not.toHaveReceivedCommand(StartQueryExecutionCommand);
  });

  it('Plan reads the definitions bucket and the lake partitions, runs the source checks on Athena and plans the query', async () => {
    // Act
    const planned = await plan();
    // Assess
    expect(planned).toMatchObject({ run_id: RUN, engine: 'athena engine v3', trigger: 'manual', as_of: '2024-06-01T00:00:00.000Z' });
    // The lake holds Parquet events only: the query reads the Parquet table, for this run's listing.
    const manifests = aws.keys('cohorts-results').filter((key) => key.startsWith('lake-files/'));
    const listing = manifests[0]?.split('/')[1] as string;
    expect(manifests).toEqual([
      `lake-files/${listing}/events-parquet/unit=millis/dt=2024-05-30/files.txt`,
      `lake-files/${listing}/events-parquet/unit=millis/dt=2024-05-31/files.txt`,
    ]);
    expect(aws.text('cohorts-results', manifests[1] as string)).toBe('s3://cohorts-lake/events/dt=2024-05-31/part-0.parquet\n');
    expect(planned.query).toContain(
      `FROM "cohort_refresh"."events_parquet" WHERE listing = '${listing}' AND dt BETWEEN '2024-05-30' AND '2024-05-31' AND unit = 'millis'`,
    );
    expect(planned.query).not.toContain('events_jsonl');
    expect(planned.cohorts).toEqual([expect.objectContaining({ id: 'payers', version: 1, unchanged: null })]);
    expect(planned.cohorts[0]?.definition.path).toBe('s3://cohorts-definitions/payers.yaml');
    expect(planned.inputs).toEqual([
      { table: 'events', location: 's3://cohorts-lake/events/', partitions: ['dt=2024-05-30', 'dt=2024-05-31'] },
      { table: 'identities', location: 's3://cohorts-lake/identities/', partitions: [] },
    ]);
    expect(aws.s3).toHaveReceivedCommandWith(ListObjectsV2Command, { Bucket: 'cohorts-definitions', Prefix: '' });
    expect(aws.s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: 'cohorts-definitions', Key: 'payers.yaml' });
    expect(aws.s3).toHaveReceivedCommandWith(ListObjectsV2Command, { Bucket: 'cohorts-lake', Prefix: 'events/' });
    expect(aws.s3).toHaveReceivedCommandWith(ListObjectsV2Command, { Bucket: 'cohorts-lake', Prefix: 'identities/' });
    expect(aws.s3).toHaveReceivedCommandWith(ListObjectsV2Command, { Bucket: 'cohorts-snapshots', Prefix: 'snapshots/cohort=payers/' });
    // The source checks by partition: one query names the lake's partitions of the window, for parts kept under checks/parts/.
    expect(aws.athena).toHaveReceivedCommandWith(StartQueryExecutionCommand, {
      QueryString: expect.stringContaining('AS grain'),
      WorkGroup: 'cohort-refresh',
      QueryExecutionContext: { Database: 'cohort_refresh', Catalog: 'AwsDataCatalog' },
    });
    const checks = aws.athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input.QueryString ?? '');
    expect(checks.filter((sql) => sql.includes('dt AS part')).map((sql) => /dt IN \(([^)]*)\)/.exec(sql)?.[1])).toEqual([
      "'2024-05-30', '2024-05-31'",
    ]);
    // First the identity map's keys, kept for the checks (UNLOAD under checks/identity-keys/), then its counts, read by pages.
    expect(checks[0]).toMatch(
      /^UNLOAD \(\n[\s\S]*\) TO 's3:\/\/cohorts-snapshots\/checks\/identity-keys\/version=[0-9a-f]{16}-\d{13}-[0-9a-f]{8}\/'/,
    );
    expect(aws.athena).toHaveReceivedCommandWith(GetQueryResultsCommand, { QueryExecutionId: 'q-2', MaxResults: 1000 });
    expect(aws.keys('cohorts-snapshots')).toContain('checks/identity-keys/state.json');
    // Plan writes no snapshot (governance records the accepted definition under catalog/ of the definitions bucket), only
    // the tile store's lease (taken first, created only if absent), source-check parts, the kept keys' state and the
    // index of versions it found missing (none yet).
    const written = aws.s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(written.filter((put) => put.Bucket === 'cohorts-snapshots' && !put.Key?.startsWith('checks/'))).toEqual([
      expect.objectContaining({ Key: 'tiles/lease.json', IfNoneMatch: '*', Body: expect.stringContaining(`"holder":"${RUN}"`) }),
      expect.objectContaining({ Key: 'snapshots/cohort=payers/index.json', Body: '{"through":0}\n' }),
    ]);
    expect(aws.keys('cohorts-snapshots').filter((key) => key.startsWith('checks/parts/dt=') && key.endsWith('.json'))).toEqual([
      'checks/parts/dt=2024-05-30.json',
      'checks/parts/dt=2024-05-31.json',
    ]);
    // Each with its digests' object (here none: the fakes answer the parts' statement with no row).
    expect(aws.keys('cohorts-snapshots').filter((key) => key.endsWith('.digests'))).toHaveLength(2);
  });

  it('Snapshot reads its cohort from the evaluation table, writes a version readable without DuckDB and publishes it', async () => {
    // Prepare
    const planned = await plan();
    aws.athena.resetHistory();
    aws.s3.resetHistory();
    // Act: Evaluate left what Athena scanned beside the query id; Tiles an estimate from file sizes
    const outcome = (await handlers.Snapshot?.({
      plan: planned,
      cohort: 'payers',
      evaluation: { ...EVALUATION, data_scanned_bytes: 123_456 },
      tiles: { ...TILES, bytes_scanned: { evaluate: 999, full_estimate: 999 } },
    })) as CohortOutcome;
    // Assess
    expect(outcome).toMatchObject({
      cohort: 'payers',
      status: 'published',
      version: 1,
      size: 3,
      entered: 3,
      exited: 0,
      previous_version: null,
    });
    expect(aws.athena).toHaveReceivedCommandWith(GetQueryExecutionCommand, { QueryExecutionId: CTAS_ID });
    expect(aws.athena).toHaveReceivedCommandWith(GetQueryRuntimeStatisticsCommand, { QueryExecutionId: CTAS_ID });
    const column = JSON.stringify(planned.cohorts[0]?.column);
    expect(aws.athena).toHaveReceivedCommandTimes(StartQueryExecutionCommand, 2);
    expect(aws.athena).toHaveReceivedCommandWith(StartQueryExecutionCommand, {
      QueryString: `SELECT person_id FROM "cohort_refresh"."evaluation_r1" WHERE ${column}`,
      WorkGroup: 'cohort-refresh',
    });
    expect(aws.athena).toHaveReceivedCommandWith(StartQueryExecutionCommand, {
      QueryString: expect.stringMatching(
        new RegExp(`^SELECT count\\(\\*\\) AS size, .* FROM "cohort_refresh"."evaluation_r1" WHERE ${column}$`),
      ),
    });
    const membersQuery = [...aws.queries.values()].find((q) => q.sql.startsWith('SELECT person_id'));
    expect(aws.s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: 'cohorts-results', Key: `results/${membersQuery?.id}.csv` });
    // Members come from the result file; GetQueryResults only reads the one-row KPI totals.
    expect(aws.athena).not.toHaveReceivedCommandWith(GetQueryResultsCommand, { QueryExecutionId: membersQuery?.id });
    // ...and the result file (person ids) and its metadata are gone once read.
    expect(aws.keys('cohorts-results').filter((key) => key.startsWith(`results/${membersQuery?.id}.csv`))).toEqual([]);
    const prefix = 'snapshots/cohort=payers/version=1/';
    expect(aws.s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'cohorts-snapshots',
      Key: `${prefix}members.parquet`,
      IfNoneMatch: '*',
    });
    expect(aws.s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'cohorts-snapshots',
      Key: `${prefix}manifest.json`,
      IfNoneMatch: '*',
    });
    expect(aws.s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'cohorts-snapshots',
      Key: 'snapshots/cohort=payers/current.json',
      Body: '{"version":1}\n',
      IfNoneMatch: '*',
    });
    const members = aws.buckets.get('cohorts-snapshots')?.get(`${prefix}members.parquet`)?.body as Uint8Array;
    expect(await new ParquetMembersCodec().decode(members)).toEqual(['ann', 'bob', 'cid']);
    const manifest = JSON.parse(aws.text('cohorts-snapshots', `${prefix}manifest.json`) as string) as Manifest;
    expect(manifest).toMatchObject({ population: 3041, lineage: { engine: 'athena engine v3', run_id: RUN } });
    // The lineage keeps what Athena scanned, not the estimate.
    expect(manifest.lineage.bytes_scanned).toEqual({ evaluate: 123_456, full_estimate: 999 });
  });

  it('Snapshot retried after its answer was lost returns the version it wrote without writing again', async () => {
    // Prepare
    const planned = await plan();
    const event = { plan: planned, cohort: 'payers', evaluation: EVALUATION, tiles: TILES };
    const first = await handlers.Snapshot?.(event);
    aws.s3.resetHistory();
    aws.athena.resetHistory();
    // Act
    const again = await handlers.Snapshot?.(event);
    // Assess
    expect(again).toEqual(first);
    expect(aws.s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(aws.athena).not.toHaveReceivedCommand(StartQueryExecutionCommand);
  });

  it('Snapshot fails with CurrentMovedError, and leaves current alone, when another run published in the meantime', async () => {
    // Prepare: another run moves current between this run's read of it and its publish.
    const planned = await plan();
    aws.afterPut = (bucket, key) => {
      if (key.endsWith('version=1/manifest.json')) aws.put(bucket, 'snapshots/cohort=payers/current.json', '{"version":2}\n');
    };
    // Act
    const snapshot = handlers.Snapshot?.({ plan: planned, cohort: 'payers', evaluation: EVALUATION, tiles: TILES });
    // Assess
    await expect(snapshot).rejects.toMatchObject({
      name: 'CurrentMovedError',
      message: expect.stringContaining('now at version 2, not none'),
    });
    expect(aws.text('cohorts-snapshots', 'snapshots/cohort=payers/current.json')).toBe('{"version":2}\n');
    expect(aws.s3).not.toHaveReceivedCommandWith(PutObjectCommand, { Key: 'snapshots/cohort=payers/current.json' });
    // The version keeps its manifest (status published) and is recorded as never current, beside the version folders.
    expect(JSON.parse(aws.text('cohorts-snapshots', 'snapshots/cohort=payers/version=1/manifest.json') as string)).toMatchObject({
      status: 'published',
    });
    expect(JSON.parse(aws.text('cohorts-snapshots', 'snapshots/cohort=payers/lost-publish/version=1.json') as string)).toMatchObject({
      cohort: 'payers',
      version: 1,
      computed_against: null,
      current_version: 2,
      run_id: RUN,
    });
  });

  it('Snapshot surfaces Athena throttling as ThrottledError and a failed query by its name, for Retry and Catch', async () => {
    // Prepare
    const planned = await plan();
    aws.s3.resetHistory();
    const event = { plan: planned, cohort: 'payers', evaluation: EVALUATION, tiles: TILES };
    aws.answer = () => {
      throw Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
        $retryable: { throttling: true },
      });
    };
    // Act & Assess
    await expect(handlers.Snapshot?.(event)).rejects.toMatchObject({ name: 'ThrottledError', operation: 'Athena.StartQueryExecution' });
    aws.answer = (query) => {
      query.state = 'FAILED';
      query.reason = 'TABLE_NOT_FOUND: evaluation_r1';
    };
    await expect(handlers.Snapshot?.(event)).rejects.toMatchObject({
      name: 'AthenaQueryFailedError',
      reason: 'TABLE_NOT_FOUND: evaluation_r1',
    });
    expect(aws.s3).not.toHaveReceivedCommandWith(PutObjectCommand, { Bucket: 'cohorts-snapshots' });
  });

  it('Finish releases the evaluation (its files, then its Glue table) and sends one alert', async () => {
    // Prepare
    const planned = await plan();
    const snapshot = await handlers.Snapshot?.({ plan: planned, cohort: 'payers', evaluation: EVALUATION, tiles: TILES });
    // Act
    const summary = (await handlers.Finish?.({
      plan: planned,
      evaluation: { ...EVALUATION, data_scanned_bytes: 2_048 },
      tiles: TILES,
      snapshots: [snapshot],
      deliveries: [],
      started_at: '2024-06-01T00:00:00Z',
    })) as WorkflowSummary;
    // Assess
    expect(summary).toMatchObject({
      run_id: RUN,
      population: 3041,
      cohorts: [expect.objectContaining({ cohort: 'payers', status: 'published' })],
      tiles: { mode: 'full', bytes_scanned: { evaluate: 2_048 } },
    });
    expect(aws.glue).toHaveReceivedCommandWith(GetTableCommand, { DatabaseName: 'cohort_refresh', Name: 'evaluation_r1' });
    expect(aws.s3).toHaveReceivedCommandWith(DeleteObjectsCommand, {
      Bucket: 'cohorts-results',
      Delete: { Objects: [{ Key: `results/tables/${CTAS_ID}/part-0` }], Quiet: true },
    });
    expect(aws.glue).toHaveReceivedCommandExactlyOnceWith(DeleteTableCommand, { DatabaseName: 'cohort_refresh', Name: 'evaluation_r1' });
    expect(aws.keys('cohorts-results').filter((k) => k.startsWith('results/tables/'))).toEqual([]);
    expect(aws.sns).toHaveReceivedCommandTimes(PublishCommand, summary.alert ? 1 : 0);
  });

  it('Finish retried after it released the evaluation releases nothing twice and still answers', async () => {
    // Prepare
    const planned = await plan();
    const event = {
      plan: planned,
      evaluation: EVALUATION,
      tiles: TILES,
      snapshots: [],
      deliveries: [],
      started_at: '2024-06-01T00:00:00Z',
    };
    await handlers.Finish?.(event);
    aws.glue.resetHistory();
    aws.s3.resetHistory();
    // Act
    const again = (await handlers.Finish?.(event)) as WorkflowSummary;
    // Assess
    expect(again.population).toBe(3041);
    expect(aws.glue).toHaveReceivedCommandTimes(GetTableCommand, 1);
    expect(aws.glue).not.toHaveReceivedCommand(DeleteTableCommand);
    expect(aws.s3).not.toHaveReceivedCommand(DeleteObjectsCommand);
  });

  it('AlertFailure publishes the error alert naming the failed step to the alerts topic', async () => {
    // Prepare
    const event = {
      trigger: 'schedule:daily',
      error: {
        Error: 'States.TaskFailed',
        Cause: JSON.stringify({ QueryExecution: { Status: { StateChangeReason: 'TABLE_NOT_FOUND: events_json' } } }),
      },
      failed: { step: 'Evaluate', execution: 'arn:aws:states:eu-central-1:111122223333:execution:cohort-refresh:r1' },
      plan: { run_id: 'r1', cohorts: [{ id: 'payers' }] },
    };
    // Act
    const result = await handlers.AlertFailure?.(event);
    // Assess
    expect(result).toMatchObject({ alert: { severity: 'error', step: 'Evaluate' }, released: null });
    expect(aws.sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: ENVIRONMENT.ALERTS_TOPIC_ARN,
      Subject: expect.stringContaining('ERROR: cohort refresh failed at Evaluate: States.TaskFailed (TABLE_NOT_FOUND'),
      Message: expect.stringContaining('run: r1'),
    });
    expect(aws.glue).not.toHaveReceivedCommand(GetTableCommand);
  });

  it('AlertFailure after a failed SnapshotEach alerts first, then releases the evaluation, and reports a failed release', async () => {
    // Prepare
    const event = {
      trigger: 'manual',
      error: { Error: 'CurrentMovedError', Cause: '{"errorMessage":"cohort \\"payers\\" is now at version 2"}' },
      failed: { step: 'SnapshotEach', execution: 'arn:aws:states:eu-central-1:111122223333:execution:cohort-refresh:r1' },
      plan: await plan(),
      evaluation: EVALUATION,
    };
    // Act
    const released = await handlers.AlertFailure?.(event);
    aws.tables.set('evaluation_r1', 's3://cohorts-lake/events/');
    const refused = await handlers.AlertFailure?.(event);
    // Assess
    expect(released).toMatchObject({ alert: { step: 'SnapshotEach' }, released: true, release_error: null });
    expect(refused).toMatchObject({ released: false, release_error: expect.stringMatching(/^InvalidS3LocationError: /) });
    expect(aws.sns).toHaveReceivedCommandTimes(PublishCommand, 2);
    expect(aws.keys('cohorts-lake')).toHaveLength(2);
  });

  it('AlertFailure counts a failed run under the outcome dimension the dashboard plots', async () => {
    // Prepare: metrics on, printed through console.log
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const event = {
      trigger: 'manual',
      error: { Error: 'States.Timeout', Cause: 'slow' },
      failed: { step: 'Plan', execution: 'arn:aws:states:eu-central-1:111122223333:execution:cohort-refresh:r2' },
    };
    try {
      // Act
      await handlers.AlertFailure?.(event);
      // Assess
      const lines = log.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
      expect(lines).toContainEqual(expect.objectContaining({ Runs: 1, outcome: 'failed', service: 'cohort-refresh' }));
    } finally {
      log.mockRestore();
      vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
      vi.stubEnv('POWERTOOLS_DEV', undefined);
    }
  });

  it('Deliver exports a published version as CSV and Parquet to the exports bucket, then publishes its event', async () => {
    // Prepare
    const planned = await plan();
    const outcome = (await handlers.Snapshot?.({ plan: planned, cohort: 'payers', evaluation: EVALUATION, tiles: TILES })) as CohortOutcome;
    // Act
    const delivery = await handlers.Deliver?.({ outcome, run_id: RUN });
    // Assess
    expect(delivery).toMatchObject({ cohort: 'payers', version: 1, event: 'Cohort Refreshed' });
    const folder = 'exports/cohort=payers/version=1/';
    expect(aws.text('cohorts-exports', `${folder}members.csv`)).toBe('person_id\nann\nbob\ncid\n');
    const parquet = aws.buckets.get('cohorts-exports')?.get(`${folder}members.parquet`)?.body as Uint8Array;
    expect(await new ParquetMembersCodec().decode(parquet)).toEqual(['ann', 'bob', 'cid']);
    expect(JSON.parse(aws.text('cohorts-exports', 'exports/cohort=payers/latest.json') as string)).toMatchObject({ version: 1, size: 3 });
    expect(aws.events).toHaveReceivedCommandWith(PutEventsCommand, {
      Entries: [expect.objectContaining({ Source: 'cohort-refresh', DetailType: 'Cohort Refreshed', EventBusName: 'default' })],
    });
  });

  it("reads the Deliver function's own configuration and names what is wrong", () => {
    expect(readDeliveryConfig(ENVIRONMENT)).toEqual({ EXPORTS_BUCKET: 'cohorts-exports', EVENT_BUS_NAME: 'default' });
    expect(() => readDeliveryConfig({ EXPORTS_BUCKET: 'Not A Bucket' })).toThrow(/EXPORTS_BUCKET.*EVENT_BUS_NAME/);
  });

  it('reads its configuration from the environment and names every missing variable', () => {
    expect(readConfig(ENVIRONMENT)).toMatchObject({ GLUE_DATABASE: 'cohort_refresh', EVENT_LAKE_PREFIX: '', ATHENA_MAX_WAIT_MS: 60_000 });
    expect(readConfig({ ...ENVIRONMENT, ATHENA_MAX_WAIT_MS: undefined }).ATHENA_MAX_WAIT_MS).toBeUndefined();
    expect(() => readConfig({ ...ENVIRONMENT, SNAPSHOTS_BUCKET: undefined, ALERTS_TOPIC_ARN: 'alerts' })).toThrow(InvalidConfigError);
    expect(() => readConfig({ ...ENVIRONMENT, SNAPSHOTS_BUCKET: undefined, ALERTS_TOPIC_ARN: 'alerts' })).toThrow(
      /SNAPSHOTS_BUCKET.*ALERTS_TOPIC_ARN/,
    );
  });
});
