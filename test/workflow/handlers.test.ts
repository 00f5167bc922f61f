import 'aws-sdk-client-mock-vitest/extend';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidConfigError, readConfig } from '../../functions/commons/config.ts';
import { readDeliveryConfig } from '../../functions/commons/delivery-config.ts';

const ENVIRONMENT = {
  DEFINITIONS_BUCKET: 'cohorts-definitions',
  SNAPSHOTS_BUCKET: 'cohorts-snapshots',
  EVENT_LAKE_BUCKET: 'cohorts-lake',
  EVENT_LAKE_PREFIX: '',
  ATHENA_RESULTS_BUCKET: 'cohorts-results',
  ATHENA_WORKGROUP: 'cohort-refresh',
  GLUE_DATABASE: 'cohort_refresh',
  ALERTS_TOPIC_ARN: 'arn:aws:sns:eu-central-1:111122223333:alerts',
  EXPORTS_BUCKET: 'cohorts-exports',
  EVENT_BUS_NAME: 'default',
  AWS_REGION: 'eu-central-1',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
};

const sns = mockClient(SNSClient);
type Handler = (event: unknown) => Promise<unknown>;
const handlers: Record<string, Handler> = {};

describe('the Lambda handlers', () => {
  beforeAll(async () => {
    for (const [key, value] of Object.entries(ENVIRONMENT)) vi.stubEnv(key, value);
    // Imported after the environment is set, as Lambda loads them.
    handlers.Plan = (await import('../../functions/plan.ts')).handler;
    handlers.Snapshot = (await import('../../functions/snapshot.ts')).handler;
    handlers.Deliver = (await import('../../functions/deliver.ts')).handler;
    handlers.Finish = (await import('../../functions/finish.ts')).handler;
    handlers.AlertFailure = (await import('../../functions/alert-failure.ts')).handler;
  });

  beforeEach(() => {
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  });

  it.each<[string, unknown, string[]]>([
    ['Plan', { request: { cohort: 'payers' }, run_id: 'r1', started_at: '2024-06-01T00:00:00Z' }, ['request: Unrecognized key: "cohort"']],
    ['Plan', { request: {}, run_id: 'has spaces', started_at: 'yesterday' }, ['run_id:', 'started_at:']],
    ['Snapshot', { plan: {}, cohort: 'Payers', evaluation: {} }, ['plan.run_id:', 'cohort:', 'evaluation.query_execution_id:']],
    ['Deliver', { outcome: { cohort: 'payers', status: 'exported', version: 0 }, run_id: 'r 1' }, ['outcome.status:', 'outcome.version:', 'run_id:']],
    ['Finish', { evaluation: { query_execution_id: 'q' }, snapshots: [{ cohort: 'payers', status: 'done' }] }, ['plan:', 'snapshots.0.status:']],
    ['AlertFailure', { error: 'boom' }, ['error:', 'failed:']],
  ])('%s rejects a malformed event with a named error listing every problem', async (step, event, problems) => {
    // Act
    const result = handlers[step]?.(event);
    // Assess
    await expect(result).rejects.toMatchObject({ name: 'InvalidEventError', step });
    const error = (await result?.catch((e: unknown) => e)) as { problems: string[] };
    for (const problem of problems) expect(error.problems.some((p) => p.startsWith(problem)), problem).toBe(true);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it('AlertFailure publishes the error alert naming the failed step to the alerts topic', async () => {
    // Prepare
    const event = {
      trigger: 'schedule:daily',
      error: { Error: 'States.TaskFailed', Cause: JSON.stringify({ QueryExecution: { Status: { StateChangeReason: 'TABLE_NOT_FOUND: events_json' } } }) },
      failed: { step: 'Evaluate', execution: 'arn:aws:states:eu-central-1:111122223333:execution:cohort-refresh:r1' },
      plan: { run_id: 'r1', cohorts: [{ id: 'payers' }] },
    };
    // Act
    const result = await handlers.AlertFailure?.(event);
    // Assess
    expect(result).toMatchObject({ alert: { severity: 'error', step: 'Evaluate' }, released: null });
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: ENVIRONMENT.ALERTS_TOPIC_ARN,
      Subject: expect.stringContaining('ERROR: cohort refresh failed at Evaluate: States.TaskFailed (TABLE_NOT_FOUND'),
      Message: expect.stringContaining('run: r1'),
    });
  });

  it('AlertFailure counts a failed run under the outcome dimension the dashboard plots', async () => {
    // Prepare: metrics on, printed through console.log
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const event = { trigger: 'manual', error: { Error: 'States.Timeout', Cause: 'slow' }, failed: { step: 'Plan', execution: 'arn:aws:states:eu-central-1:111122223333:execution:cohort-refresh:r2' } };
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

  it('Plan, given a good event, names the cloud adapters that do not exist yet instead of pretending', async () => {
    const event = { request: { trigger: 'manual' }, run_id: 'r1', started_at: '2024-06-01T00:00:00Z' };

    const result = handlers.Plan?.(event);

    await expect(result).rejects.toMatchObject({ name: 'AdapterMissingError', step: 'Plan', message: expect.stringContaining('QueryEngine on Athena') });
  });

  it('Deliver, given a good event, names the Parquet codec it waits for instead of pretending', async () => {
    const outcome = { cohort: 'payers', status: 'published', version: 2, size: 1, previous_version: 1, entered: 0, exited: 0, checks: [] };

    const result = handlers.Deliver?.({ outcome, run_id: 'r1' });

    await expect(result).rejects.toMatchObject({ name: 'AdapterMissingError', step: 'Deliver', message: expect.stringContaining('MembersCodec') });
  });

  it("reads the Deliver function's own configuration and names what is wrong", () => {
    expect(readDeliveryConfig(ENVIRONMENT)).toEqual({ EXPORTS_BUCKET: 'cohorts-exports', EVENT_BUS_NAME: 'default' });
    expect(() => readDeliveryConfig({ EXPORTS_BUCKET: 'Not A Bucket' })).toThrow(/EXPORTS_BUCKET.*EVENT_BUS_NAME/);
  });

  it('reads its configuration from the environment and names every missing variable', () => {
    expect(readConfig(ENVIRONMENT)).toMatchObject({ GLUE_DATABASE: 'cohort_refresh', EVENT_LAKE_PREFIX: '' });
    expect(() => readConfig({ ...ENVIRONMENT, SNAPSHOTS_BUCKET: undefined, ALERTS_TOPIC_ARN: 'alerts' })).toThrow(InvalidConfigError);
    expect(() => readConfig({ ...ENVIRONMENT, SNAPSHOTS_BUCKET: undefined, ALERTS_TOPIC_ARN: 'alerts' })).toThrow(/SNAPSHOTS_BUCKET.*ALERTS_TOPIC_ARN/);
  });
});
