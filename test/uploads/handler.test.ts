import 'aws-sdk-client-mock-vitest/extend';
import { PutEventsCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidConfigError } from '../../functions/commons/config.ts';
import { readUploadConfig } from '../../functions/commons/upload-ports.ts';
import { header } from '../support/lake.ts';
import { objectBody } from '../cloud/support.ts';

const BUCKET = 'cohorts-definitions';
const STATE_MACHINE = 'arn:aws:states:eu-central-1:111122223333:stateMachine:cohort-refresh';
const ENVIRONMENT = {
  DEFINITIONS_BUCKET: BUCKET,
  STATE_MACHINE_ARN: STATE_MACHINE,
  ALERTS_TOPIC_ARN: 'arn:aws:sns:eu-central-1:111122223333:alerts',
  EVENT_BUS_NAME: 'default',
  AWS_REGION: 'eu-central-1',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
};

const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const sns = mockClient(SNSClient);
const events = mockClient(EventBridgeClient);
let handler: (event: unknown) => Promise<unknown>;

/** The errors of a rejected upload (none for any other outcome). */
const errorsOf = (outcome: unknown): readonly string[] => (outcome as { errors?: string[] }).errors ?? [];

const PAYERS = `${header('payers')}rule:\n  event: invoice_paid\n  within: 30d\n`;
const ACTIVE_PAYERS = `${header('active_payers')}rule:\n  all:\n    - cohort: payers\n    - event: login\n`;
const PAYERS_90D = `${header('payers')}rule:\n  event: invoice_paid\n  within: 90d\nchange_reason: Quarterly billing.\n`;

/** The S3 notification EventBridge delivers for an upload. */
const objectCreated = (key: string) => ({
  version: '0',
  id: '17793124-05d4-b198-2fde-7ededc63b103',
  'detail-type': 'Object Created',
  source: 'aws.s3',
  account: '111122223333',
  time: '2024-06-01T10:00:00Z',
  region: 'eu-central-1',
  resources: [`arn:aws:s3:::${BUCKET}`],
  detail: { version: '0', bucket: { name: BUCKET }, object: { key, size: 120, etag: 'e', 'version-id': 'v1', sequencer: 's' }, reason: 'PutObject' },
});

/** A bucket holding the live catalog and one upload. */
function givenBucket(upload: string) {
  const objects: Record<string, string> = { 'payers.yaml': PAYERS, 'active_payers.yaml': ACTIVE_PAYERS, 'incoming/payers.yaml': upload };
  s3.on(ListObjectsV2Command, { Bucket: BUCKET }).resolves({ Contents: Object.keys(objects).map((Key) => ({ Key })), IsTruncated: false });
  s3.on(GetObjectCommand).rejects(new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'no such key' }));
  for (const [Key, text] of Object.entries(objects)) s3.on(GetObjectCommand, { Bucket: BUCKET, Key }).resolves({ Body: objectBody(text), ETag: '"e"' });
  s3.on(PutObjectCommand).resolves({ ETag: '"new"' });
}

describe('the definition upload handler', () => {
  beforeAll(async () => {
    for (const [key, value] of Object.entries(ENVIRONMENT)) vi.stubEnv(key, value);
    handler = (await import('../../functions/definition-upload.ts')).handler;
  });

  beforeEach(() => {
    for (const client of [s3, sfn, sns, events]) client.reset();
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${STATE_MACHINE.replace('stateMachine', 'execution')}:upload-1`, startDate: new Date() });
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  });

  it('promotes a valid upload into the catalog, then starts a refresh of the cohort and its dependants', async () => {
    // Prepare
    givenBucket(PAYERS_90D);
    // Act
    const outcome = await handler(objectCreated('incoming/payers.yaml'));
    // Assess
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: BUCKET, Key: 'incoming/payers.yaml' });
    expect(s3).toHaveReceivedCommandExactlyOnceWith(PutObjectCommand, { Bucket: BUCKET, Key: 'payers.yaml', Body: PAYERS_90D, ContentType: 'application/yaml' });
    expect(sfn).toHaveReceivedCommandExactlyOnceWith(StartExecutionCommand, {
      stateMachineArn: STATE_MACHINE,
      name: 'upload-17793124-05d4-b198-2fde-7ededc63b103',
      input: JSON.stringify({ trigger: 'definition-change', cohorts: ['payers', 'active_payers'], rationale: 'Quarterly billing.' }),
    });
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
    expect(events).not.toHaveReceivedCommand(PutEventsCommand);
    expect(outcome).toMatchObject({ status: 'accepted', promoted_to: `s3://${BUCKET}/payers.yaml` });
  });

  it('treats a redelivered notification whose refresh already ran as started', async () => {
    givenBucket(PAYERS_90D);
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ $metadata: { httpStatusCode: 400 }, message: 'exists' }));

    const outcome = await handler(objectCreated('incoming/payers.yaml'));

    expect(outcome).toMatchObject({
      status: 'accepted',
      refresh: { execution: 'arn:aws:states:eu-central-1:111122223333:execution:cohort-refresh:upload-17793124-05d4-b198-2fde-7ededc63b103' },
    });
  });

  it('rejects an invalid upload with an SNS alert and a Definition Rejected event, writing nothing and starting nothing', async () => {
    // Prepare
    givenBucket(`${header('payers')}rule:\n  event: invoice_paid\n  within: 30 days\n`);
    // Act
    const outcome = await handler(objectCreated('incoming/payers.yaml'));
    // Assess
    const location = `s3://${BUCKET}/incoming/payers.yaml`;
    // As `cohorts validate` would print them: the file's error, then what its absence does to active_payers.
    expect(outcome).toMatchObject({
      status: 'rejected',
      errors: [expect.stringMatching(new RegExp(`^${location}:8:\\d+: `)), expect.stringContaining('active_payers.yaml:')],
    });
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(sns).toHaveReceivedCommandExactlyOnceWith(PublishCommand, {
      TopicArn: ENVIRONMENT.ALERTS_TOPIC_ARN,
      Subject: expect.stringContaining('Definition rejected: incoming/payers.yaml'),
      Message: expect.stringContaining(`${location}:8:`),
    });
    const entry = events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry).toMatchObject({ Source: 'cohort-refresh', DetailType: 'Definition Rejected', EventBusName: 'default' });
    expect(JSON.parse(entry?.Detail ?? '{}')).toMatchObject({
      status: 'rejected',
      path: 'incoming/payers.yaml',
      location,
      errors: errorsOf(outcome),
      run_id: '17793124-05d4-b198-2fde-7ededc63b103',
    });
  });

  it('rejects an event that is not an S3 Object Created notification, naming what is wrong', async () => {
    const result = handler({ ...objectCreated('incoming/payers.yaml'), 'detail-type': 'Object Deleted', detail: { bucket: {} } });

    await expect(result).rejects.toMatchObject({ name: 'InvalidEventError', step: 'DefinitionUpload' });
    const error = (await result.catch((e: unknown) => e)) as { problems: string[] };
    expect(error.problems.some((p) => p.startsWith('detail-type:'))).toBe(true);
    expect(error.problems.some((p) => p.startsWith('detail.object:'))).toBe(true);
    expect(s3).not.toHaveReceivedAnyCommand();
  });

  it('reads its configuration from the environment and names every problem', () => {
    expect(readUploadConfig(ENVIRONMENT)).toMatchObject({ STATE_MACHINE_ARN: STATE_MACHINE });
    expect(() => readUploadConfig({ ...ENVIRONMENT, STATE_MACHINE_ARN: 'cohort-refresh', EVENT_BUS_NAME: undefined })).toThrow(InvalidConfigError);
    expect(() => readUploadConfig({ ...ENVIRONMENT, STATE_MACHINE_ARN: 'cohort-refresh', EVENT_BUS_NAME: undefined })).toThrow(/STATE_MACHINE_ARN.*EVENT_BUS_NAME/);
  });
});
