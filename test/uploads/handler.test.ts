import 'aws-sdk-client-mock-vitest/extend';
import { createHash } from 'node:crypto';
import { PutEventsCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidConfigError, readUploadConfig } from '../../functions/commons/config.ts';
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
const objectCreated = (key: string, size = 120) => ({
  version: '0',
  id: '17793124-05d4-b198-2fde-7ededc63b103',
  'detail-type': 'Object Created',
  source: 'aws.s3',
  account: '111122223333',
  time: '2024-06-01T10:00:00Z',
  region: 'eu-central-1',
  resources: [`arn:aws:s3:::${BUCKET}`],
  detail: {
    version: '0',
    bucket: { name: BUCKET },
    object: { key, size, etag: 'e', 'version-id': 'v1', sequencer: 's' },
    reason: 'PutObject',
  },
});

/** A bucket holding the live catalog and one upload (and any other objects given). */
function givenBucket(upload: string, more: Record<string, string> = {}) {
  const objects: Record<string, string> = {
    'payers.yaml': PAYERS,
    'active_payers.yaml': ACTIVE_PAYERS,
    'incoming/payers.yaml': upload,
    ...more,
  };
  s3.on(ListObjectsV2Command, { Bucket: BUCKET }).resolves({ Contents: Object.keys(objects).map((Key) => ({ Key })), IsTruncated: false });
  s3.on(GetObjectCommand).rejects(new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'no such key' }));
  for (const [Key, text] of Object.entries(objects))
    s3.on(GetObjectCommand, { Bucket: BUCKET, Key }).resolves({ Body: objectBody(text), ETag: '"e"' });
  s3.on(PutObjectCommand).resolves({ ETag: '"new"' });
}

describe('the definition upload handler', () => {
  beforeAll(async () => {
    for (const [key, value] of Object.entries(ENVIRONMENT)) vi.stubEnv(key, value);
    handler = (await import('../../functions/definition-upload.ts')).handler;
  });

  beforeEach(() => {
    for (const client of [s3, sfn, sns, events]) client.reset();
    sfn
      .on(StartExecutionCommand)
      .resolves({ executionArn: `${STATE_MACHINE.replace('stateMachine', 'execution')}:upload-1`, startDate: new Date() });
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
    expect(s3).toHaveReceivedCommandExactlyOnceWith(PutObjectCommand, {
      Bucket: BUCKET,
      Key: 'payers.yaml',
      Body: PAYERS_90D,
      ContentType: 'application/yaml',
    });
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
      refresh: {
        execution: 'arn:aws:states:eu-central-1:111122223333:execution:cohort-refresh:upload-17793124-05d4-b198-2fde-7ededc63b103',
      },
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

  it('promotes a valid project config beside the definitions, starting no refresh (the next one reads it)', async () => {
    // Prepare
    const config = 'checks:\n  freshness: {warn: 2, fail: 3}\nprivacy:\n  suppression_list: privacy/suppressed.txt\n';
    givenBucket(PAYERS, { 'incoming/cohorts.config.yaml': config });
    // Act
    const outcome = await handler(objectCreated('incoming/cohorts.config.yaml'));
    // Assess
    expect(outcome).toEqual({ status: 'accepted', cohort: null, promoted_to: `s3://${BUCKET}/cohorts.config.yaml`, refresh: null });
    expect(s3).toHaveReceivedCommandExactlyOnceWith(PutObjectCommand, {
      Bucket: BUCKET,
      Key: 'cohorts.config.yaml',
      Body: config,
      ContentType: 'application/yaml',
    });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it('keeps a config upload that turns off the suppression list or the approvals waiting for an approval, the live config unchanged', async () => {
    // Prepare
    const live = 'privacy:\n  personal_properties: [email]\n';
    const upload =
      'privacy: {suppression_list: privacy/nobody.txt, personal_properties: []}\nguardrails: {approval_size_change_pct: 100000}\n';
    givenBucket(PAYERS, { 'cohorts.config.yaml': live, 'incoming/cohorts.config.yaml': upload });
    // Act
    const outcome = await handler(objectCreated('incoming/cohorts.config.yaml'));
    // Assess
    const hash = createHash('sha256').update(upload).digest('hex');
    const approve = `cohorts approve cohorts.config.yaml --cloud --hash ${hash.slice(0, 12)} --by NAME --note WHY`;
    expect(outcome).toEqual({
      status: 'pending',
      cohort: null,
      pending: `s3://${BUCKET}/pending/cohorts.config.yaml.json`,
      hash,
      sections: ['privacy', 'guardrails'],
      approve,
    });
    // Only the pending config is written: the live one stays, and nothing is announced as rejected.
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 1);
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put?.Key).toBe('pending/cohorts.config.yaml.json');
    expect(JSON.parse(String(put?.Body))).toMatchObject({
      hash,
      text: upload,
      base: createHash('sha256').update(live).digest('hex'),
      sections: ['privacy', 'guardrails'],
    });
    expect(sns).toHaveReceivedCommandExactlyOnceWith(PublishCommand, {
      Subject: expect.stringContaining('Config upload waits for an approval: it changes privacy and guardrails'),
      Message: expect.stringContaining(approve),
    });
    expect(events).not.toHaveReceivedCommand(PutEventsCommand);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('rejects an invalid project config with the alert and event of a rejected definition, naming path:line:col', async () => {
    // Prepare
    givenBucket(PAYERS, { 'incoming/cohorts.config.yaml': 'checks:\n  freshness: {warn: 1, fial: 2}\nprivacy:\n  salt_env: SALT\n' });
    // Act
    const outcome = await handler(objectCreated('incoming/cohorts.config.yaml'));
    // Assess
    const location = `s3://${BUCKET}/incoming/cohorts.config.yaml`;
    expect(outcome).toMatchObject({
      status: 'rejected',
      cohort: null,
      errors: [expect.stringMatching(new RegExp(`^${location}:2:\\d+: .*unknown key "fial"`))],
    });
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(sns).toHaveReceivedCommandExactlyOnceWith(PublishCommand, {
      Subject: expect.stringContaining('Definition rejected: incoming/cohorts.config.yaml (1 error)'),
    });
    const entry = events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry).toMatchObject({ DetailType: 'Definition Rejected' });
    expect(JSON.parse(entry?.Detail ?? '{}')).toMatchObject({
      status: 'rejected',
      cohort: null,
      path: 'incoming/cohorts.config.yaml',
      location,
      errors: errorsOf(outcome),
    });
    // Valid YAML the cloud cannot honour is refused too, at its place.
    givenBucket(PAYERS, { 'incoming/cohorts.config.yaml': 'privacy:\n  salt_env: SALT\n' });
    expect(errorsOf(await handler(objectCreated('incoming/cohorts.config.yaml')))).toEqual([
      expect.stringMatching(new RegExp(`^${location}:2:3: privacy.salt_env is not supported in the cloud`)),
    ]);
  });

  it('rejects a config under which a live definition compares a personal property, and a definition that does under the live config', async () => {
    // Prepare: a live definition compares the plan property with a value.
    const TEAM = `${header('team_payers')}rule:\n  event: invoice_paid\n  where: {plan: team}\n`;
    givenBucket(PAYERS, { 'team_payers.yaml': TEAM, 'incoming/cohorts.config.yaml': 'privacy:\n  personal_properties: [plan]\n' });
    // Act
    const config = await handler(objectCreated('incoming/cohorts.config.yaml'));
    // Assess
    expect(config).toMatchObject({
      status: 'rejected',
      errors: [expect.stringMatching(new RegExp(`^s3://${BUCKET}/team_payers.yaml:\\d+:\\d+: .*plan`))],
    });
    // Prepare: the live config declares it, and the same definition is uploaded.
    givenBucket(PAYERS, { 'cohorts.config.yaml': 'privacy:\n  personal_properties: [plan]\n', 'incoming/team_payers.yaml': TEAM });
    // Act
    const definition = await handler(objectCreated('incoming/team_payers.yaml'));
    // Assess
    expect(definition).toMatchObject({
      status: 'rejected',
      cohort: 'team_payers',
      errors: [expect.stringMatching(new RegExp(`^s3://${BUCKET}/incoming/team_payers.yaml:\\d+:\\d+: `))],
    });
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  /** What the analyst hears of a rejected upload: the SNS alert's subject and the event's errors. */
  const rejection = () => {
    const entry = events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    const detail = JSON.parse(entry?.Detail ?? '{}') as { errors?: string[] };
    return {
      alerts: sns.commandCalls(PublishCommand).map((call) => call.args[0].input.Subject),
      type: entry?.DetailType,
      errors: detail.errors,
    };
  };

  it.each([
    ['a ../ segment', 'incoming/../payers.yaml', 'incoming/../payers.yaml'],
    ['a ../ to another prefix', 'incoming/../catalog/cohort=x/version=1.json', 'incoming/../catalog/cohort=x/version=1.json'],
    ['a control character', 'incoming/pay\u0001ers.yaml', '"incoming/pay\\u0001ers.yaml"'],
  ])('rejects a key with %s with an alert and a Definition Rejected event, before reading it', async (_, key, shown) => {
    // Prepare
    givenBucket(PAYERS_90D);
    // Act
    const outcome = await handler(objectCreated(key));
    // Assess
    expect(outcome).toMatchObject({
      status: 'rejected',
      errors: [
        `${shown}: upload definitions as incoming/<id>.yaml, named actions as incoming/actions/<id>.yaml, lists as incoming/lists/<name>.csv (one file, no other sub-folder, no control characters)`,
      ],
    });
    expect(rejection()).toEqual({
      alerts: [expect.stringContaining('Definition rejected')],
      type: 'Definition Rejected',
      errors: errorsOf(outcome),
    });
    expect(s3).not.toHaveReceivedCommand(GetObjectCommand);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('moves a valid list from incoming/lists/ to lists/, then refreshes the cohorts reading it and their dependants', async () => {
    // Prepare: vip_payers reads the list vips; fans of vip_payers read it through them
    const uploaded = 'Ann@Example.COM\r\nbob\r\n';
    givenBucket(PAYERS, {
      'vip_payers.yaml': `${header('vip_payers')}rule:\n  all:\n    - list: vips\n    - cohort: payers\n`,
      'vip_fans.yaml': `${header('vip_fans')}rule:\n  cohort: vip_payers\n`,
      'lists/vips.csv': 'ann@example.com\n',
      'incoming/lists/vips.csv': uploaded,
    });
    // Act
    const outcome = await handler(objectCreated('incoming/lists/vips.csv'));
    // Assess
    expect(s3).toHaveReceivedCommandExactlyOnceWith(PutObjectCommand, {
      Bucket: BUCKET,
      Key: 'lists/vips.csv',
      Body: uploaded,
      ContentType: expect.any(String),
    });
    expect(sfn).toHaveReceivedCommandExactlyOnceWith(StartExecutionCommand, {
      stateMachineArn: STATE_MACHINE,
      name: 'upload-17793124-05d4-b198-2fde-7ededc63b103',
      input: JSON.stringify({ trigger: 'list-change', rationale: 'list "vips" changed', cohorts: ['vip_payers', 'vip_fans'] }),
    });
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
    expect(outcome).toMatchObject({ status: 'accepted', cohort: null, promoted_to: `s3://${BUCKET}/lists/vips.csv` });
  });

  it('rejects a bad list at file:line with an alert and an event, and keeps the previous list', async () => {
    // Prepare
    givenBucket(PAYERS, { 'lists/vips.csv': 'ann\n', 'incoming/lists/vips.csv': 'ann\nbob,Bob Smith\n' });
    // Act
    const outcome = await handler(objectCreated('incoming/lists/vips.csv'));
    // Assess
    expect(outcome).toMatchObject({
      status: 'rejected',
      errors: [
        `s3://${BUCKET}/incoming/lists/vips.csv:2:1: line holds a comma: a list has one person_id per line, written bare (no other columns, no quoting)`,
      ],
    });
    expect(rejection()).toEqual({
      alerts: [expect.stringContaining('Definition rejected: incoming/lists/vips.csv')],
      type: 'Definition Rejected',
      errors: errorsOf(outcome),
    });
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('reads a list up to 32 MiB and rejects a larger one from the size in the event', async () => {
    // Prepare: 2 MiB is over a definition's limit, not a list's
    givenBucket(PAYERS, { 'incoming/lists/vips.csv': 'ann\n' });
    // Act
    const fits = await handler(objectCreated('incoming/lists/vips.csv', 2 * 1024 * 1024));
    const over = await handler(objectCreated('incoming/lists/vips.csv', 40 * 1024 * 1024));
    // Assess
    expect(fits).toMatchObject({ status: 'accepted', refresh: null });
    expect(over).toMatchObject({
      status: 'rejected',
      errors: [`s3://${BUCKET}/incoming/lists/vips.csv: is 41943040 bytes: an upload may be at most 33554432 bytes (32 MiB)`],
    });
  });

  it('rejects an object over 1 MiB from the size in the event, without reading it', async () => {
    // Prepare
    givenBucket(PAYERS_90D);
    // Act
    const outcome = await handler(objectCreated('incoming/payers.yaml', 300 * 1024 * 1024));
    // Assess
    expect(outcome).toMatchObject({
      status: 'rejected',
      errors: [`s3://${BUCKET}/incoming/payers.yaml: is 314572800 bytes: an upload may be at most 1048576 bytes (1 MiB)`],
    });
    expect(rejection()).toMatchObject({ type: 'Definition Rejected', errors: errorsOf(outcome) });
    expect(s3).not.toHaveReceivedCommand(GetObjectCommand);
  });

  it('rejects a YAML alias bomb and absurd nesting as problems of the file, with an alert and an event', async () => {
    // Prepare
    let laughs = 'a0: &a0 [lol]\n';
    for (let i = 1; i <= 9; i++) laughs += `a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]\n`;
    givenBucket(`${PAYERS_90D}${laughs}`);
    // Act
    const bomb = await handler(objectCreated('incoming/payers.yaml'));
    // Assess
    expect(bomb).toMatchObject({
      status: 'rejected',
      errors: expect.arrayContaining([
        expect.stringMatching(new RegExp(`^s3://${BUCKET}/incoming/payers.yaml:\\d+:\\d+: aliases .* expand to too much data`)),
      ]),
    });
    expect(rejection()).toMatchObject({ alerts: [expect.stringContaining('Definition rejected')], type: 'Definition Rejected' });
    // Prepare
    for (const client of [sns, events]) client.resetHistory();
    givenBucket(`${header('payers')}rule: ${'{all: ['.repeat(1000)}{event: a}${']}'.repeat(1000)}\n`);
    // Act
    const deep = await handler(objectCreated('incoming/payers.yaml'));
    // Assess
    expect(deep).toMatchObject({
      status: 'rejected',
      errors: expect.arrayContaining([expect.stringMatching(/payers\.yaml:\d+:\d+: nested too deeply/)]),
    });
    expect(rejection()).toMatchObject({ type: 'Definition Rejected' });
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
    expect(() => readUploadConfig({ ...ENVIRONMENT, STATE_MACHINE_ARN: 'cohort-refresh', EVENT_BUS_NAME: undefined })).toThrow(
      InvalidConfigError,
    );
    expect(() => readUploadConfig({ ...ENVIRONMENT, STATE_MACHINE_ARN: 'cohort-refresh', EVENT_BUS_NAME: undefined })).toThrow(
      /STATE_MACHINE_ARN.*EVENT_BUS_NAME/,
    );
  });
});
