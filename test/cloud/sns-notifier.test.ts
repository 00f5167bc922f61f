import { PublishCommand, SNSClient, ThrottledException } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ThrottledError } from '../../shared/cloud/errors.ts';
import { alertMessage, alertSubject, MAX_SUBJECT_CHARS, SnsNotifier } from '../../shared/cloud/sns-notifier.ts';
import './support.ts';
import type { Alert } from '../../shared/ports.ts';

const sns = mockClient(SNSClient);
const client = new SNSClient({ region: 'eu-central-1' });
const TOPIC = 'arn:aws:sns:eu-central-1:111122223333:cohort-refresh-alerts';

const heldAlert: Alert = {
  severity: 'fail',
  title: 'power_users version 7 held: size fell 45%',
  body: 'size_change: observed -45%, threshold 30%.\nCurrent stays at version 6.',
  run_id: 'run-42',
  cohorts: ['power_users'],
};

describe('the SNS notifier', () => {
  beforeEach(() => {
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  });

  it('publishes an e-mail-readable alert with filterable attributes', async () => {
    // Prepare
    const notifier = new SnsNotifier(client, TOPIC);

    // Act
    await notifier.notify(heldAlert);

    // Assess
    expect(sns).toHaveReceivedCommandExactlyOnceWith(PublishCommand, {
      TopicArn: TOPIC,
      Subject: '[cohort-refresh] FAIL: power_users version 7 held: size fell 45%',
      Message:
        'power_users version 7 held: size fell 45%\n\n' +
        'size_change: observed -45%, threshold 30%.\nCurrent stays at version 6.\n\n' +
        'severity: fail\ncohorts: power_users\nrun: run-42\n',
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'fail' },
        cohort: { DataType: 'String', StringValue: 'power_users' },
        run_id: { DataType: 'String', StringValue: 'run-42' },
      },
    });
  });

  it('leaves out the cohort attribute when the alert is about several cohorts, and run_id when unknown', async () => {
    // Prepare
    const notifier = new SnsNotifier(client, TOPIC);
    const alert: Alert = { severity: 'warn', title: 'two cohorts warned', body: '...', cohorts: ['a_cohort', 'b_cohort'] };

    // Act
    await notifier.notify(alert);

    // Assess
    const input = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input?.MessageAttributes).toEqual({ severity: { DataType: 'String', StringValue: 'warn' } });
    expect(input?.Message).toContain('cohorts: a_cohort, b_cohort');
  });

  it('keeps the subject on one line and under the SNS limit', () => {
    // Prepare
    const alert: Alert = {
      severity: 'error',
      title: `Step evaluate failed:\r\nAthena\tsaid ${'x'.repeat(200)} 👍`,
      body: '',
      cohorts: [],
    };

    // Act
    const subject = alertSubject(alert);

    // Assess
    expect([...subject]).toHaveLength(MAX_SUBJECT_CHARS);
    expect(subject).toMatch(/^\[cohort-refresh\] ERROR: Step evaluate failed: Athena said x+…$/);
    expect(subject).not.toMatch(/[\r\n\t]/);
  });

  it('adds the AWS Chatbot custom notification for HTTPS subscribers when asked, keeping the text for every other protocol', async () => {
    // Prepare
    const notifier = new SnsNotifier(client, TOPIC, { chatbot: true });

    // Act
    await notifier.notify({ ...heldAlert, step: 'Snapshot' });

    // Assess
    const input = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ MessageStructure: 'json', Subject: '[cohort-refresh] FAIL: power_users version 7 held: size fell 45%' });
    expect(input?.MessageAttributes).toMatchObject({ severity: { DataType: 'String', StringValue: 'fail' } });
    const variants = JSON.parse(input?.Message ?? '{}') as { default: string; https: string };
    expect(Object.keys(variants).sort()).toEqual(['default', 'https']);
    expect(variants.default).toBe(alertMessage({ ...heldAlert, step: 'Snapshot' }));
    expect(JSON.parse(variants.https)).toEqual({
      version: '1.0',
      source: 'custom',
      id: 'run-42:fail',
      content: {
        textType: 'client-markdown',
        title: ':no_entry: [cohort-refresh] FAIL: power_users version 7 held: size fell 45%',
        description: '```\nsize_change: observed -45%, threshold 30%.\nCurrent stays at version 6.\n\nstep: Snapshot\nrun: run-42\n```',
        keywords: ['fail', 'power_users'],
      },
      metadata: {
        summary: 'power_users version 7 held: size fell 45%',
        eventType: 'CohortRefreshAlert',
        additionalContext: { severity: 'fail', run_id: 'run-42', step: 'Snapshot' },
      },
    });
  });

  it('keeps a huge alert within the SNS limit beside the Chatbot variant', async () => {
    const notifier = new SnsNotifier(client, TOPIC, { chatbot: true });

    await notifier.notify({ ...heldAlert, body: 'line\n'.repeat(100_000) });

    const message = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(Buffer.byteLength(message)).toBeLessThan(256 * 1024 - 1024);
    expect(JSON.parse(message).default).toContain('[message cut: too long for SNS]');
  });

  it('surfaces throttling as ThrottledError', async () => {
    // Prepare
    sns.on(PublishCommand).rejects(new ThrottledException({ $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }));
    const notifier = new SnsNotifier(client, TOPIC);

    // Act
    const notifying = notifier.notify(heldAlert);

    // Assess
    await expect(notifying).rejects.toMatchObject({ name: 'ThrottledError', operation: 'SNS.Publish' });
    await expect(notifying).rejects.toBeInstanceOf(ThrottledError);
  });
});
