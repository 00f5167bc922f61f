import { App, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CohortRefreshStack } from '../../infra/cohort-refresh-stack.ts';
import { InvalidContextError, readStackConfig } from '../../infra/stack-config.ts';

function appWith(context: Record<string, unknown>): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
}

describe('readStackConfig', () => {
  it('splits comma-separated alert e-mails and trims them', () => {
    const config = readStackConfig(appWith({ alertEmails: ' a@example.com, b@example.com ,' }).node);

    expect(config.alertEmails).toEqual(['a@example.com', 'b@example.com']);
  });

  it('accepts alert e-mails as a list', () => {
    const config = readStackConfig(appWith({ alertEmails: ['a@example.com'] }).node);

    expect(config.alertEmails).toEqual(['a@example.com']);
  });

  it('treats absent and empty values as defaults', () => {
    const config = readStackConfig(appWith({ alertEmails: '', lakeBucketName: '', lakePrefix: '', retentionDays: '' }).node);

    expect(config).toEqual({ alertEmails: [] });
  });

  it('reads retentionDays given as text on the command line or as a number in cdk.json', () => {
    expect(readStackConfig(appWith({ retentionDays: '30' }).node).noncurrentVersionRetention?.toDays()).toBe(30);
    expect(readStackConfig(appWith({ retentionDays: 14 }).node).noncurrentVersionRetention).toEqual(Duration.days(14));
  });

  it.each([['thirty'], ['0'], [-3], [1.5]])('rejects retentionDays %j and shows it', (value) => {
    const read = () => readStackConfig(appWith({ retentionDays: value }).node);

    expect(read).toThrow(InvalidContextError);
    expect(read).toThrow(JSON.stringify(value));
  });

  it('reads schedules as an object in cdk.json or as JSON text on the command line, and rejects anything else', () => {
    expect(readStackConfig(appWith({ schedules: { daily: 'cron(30 4 * * ? *)' } }).node).schedules).toEqual({
      daily: 'cron(30 4 * * ? *)',
    });
    expect(readStackConfig(appWith({ schedules: '{"weekly": "rate(7 days)"}' }).node).schedules).toEqual({ weekly: 'rate(7 days)' });
    expect(() => readStackConfig(appWith({ schedules: 'daily=cron(0 4 * * ? *)' }).node)).toThrow(InvalidContextError);
    expect(() => readStackConfig(appWith({ schedules: { daily: 4 } }).node)).toThrow(
      'context schedules must be an object of cadence to expression, got {"daily":4}',
    );
  });

  it('reads realtimeSchedule as the realtime expression, over schedules.realtime, beside the other cadences', () => {
    expect(readStackConfig(appWith({ realtimeSchedule: ' rate(2 minutes) ' }).node).schedules).toEqual({ realtime: 'rate(2 minutes)' });
    expect(
      readStackConfig(
        appWith({ schedules: { realtime: 'rate(10 minutes)', daily: 'cron(30 4 * * ? *)' }, realtimeSchedule: 'rate(1 minute)' }).node,
      ).schedules,
    ).toEqual({ realtime: 'rate(1 minute)', daily: 'cron(30 4 * * ? *)' });
    const app = appWith({ realtimeSchedule: 'rate(2 minutes)' });
    const template = Template.fromStack(new CohortRefreshStack(app, 'Realtime', { config: readStackConfig(app.node) }));
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(2 minutes)',
      Target: Match.objectLike({ Input: JSON.stringify({ trigger: 'schedule:realtime', cadence: 'realtime' }) }),
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(5 * * * ? *)' });
  });

  it("passes context schedules to the stack's schedules", () => {
    const app = appWith({ schedules: { daily: 'cron(30 4 * * ? *)' } });
    const stack = new CohortRefreshStack(app, 'Scheduled', { config: readStackConfig(app.node) });
    Template.fromStack(stack).hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(30 4 * * ? *)' });
  });

  it('read the Chatbot channel from slackWorkspaceId and slackChannelId, and the webhook secret by name or ARN', () => {
    const config = readStackConfig(
      appWith({ slackWorkspaceId: ' T0123ABCD ', slackChannelId: 'C0456EFGH', slackWebhookSecret: 'slack-webhook' }).node,
    );

    expect(config).toMatchObject({
      slackChannel: { workspaceId: 'T0123ABCD', channelId: 'C0456EFGH' },
      slackWebhookSecret: 'slack-webhook',
    });
    expect(readStackConfig(appWith({ slackWorkspaceId: '', slackChannelId: '', slackWebhookSecret: '' }).node)).toEqual({
      alertEmails: [],
    });
  });

  it('name the missing half when only one Slack id is given', () => {
    expect(() => readStackConfig(appWith({ slackChannelId: 'C0456EFGH' }).node)).toThrow(
      new InvalidContextError(
        'context slackChannelId needs slackWorkspaceId too (the Slack channel of AWS Chatbot), got only slackChannelId="C0456EFGH"',
      ),
    );
  });

  it('reads dashboard as a boolean or its text, and shows anything else', () => {
    expect(readStackConfig(appWith({ dashboard: 'false' }).node).dashboard).toBe(false);
    expect(readStackConfig(appWith({ dashboard: true }).node).dashboard).toBe(true);
    expect(() => readStackConfig(appWith({ dashboard: 'no' }).node)).toThrow(
      new InvalidContextError('context dashboard must be true or false, got "no"'),
    );
  });

  it('rejects alertEmails that are neither text nor a list of text', () => {
    expect(() => readStackConfig(appWith({ alertEmails: 42 }).node)).toThrow('got 42');
  });
});

describe('CohortRefreshStack', () => {
  it('imports the lake bucket named in context and subscribes the alert e-mails', () => {
    // GIVEN
    const app = appWith({ alertEmails: 'a@example.com,b@example.com', lakeBucketName: 'company-event-lake', lakePrefix: 'raw/' });
    // WHEN
    const stack = new CohortRefreshStack(app, 'CohortRefreshStack', { config: readStackConfig(app.node) });
    const template = Template.fromStack(stack);
    // THEN
    template.resourceCountIs('AWS::S3::Bucket', 5);
    template.resourceCountIs('AWS::SNS::Subscription', 2);
    // The Plan step lists that lake (and writes the manifests the Glue tables read).
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ EVENT_LAKE_BUCKET: 'company-event-lake', EVENT_LAKE_PREFIX: 'raw/' }) },
    });
  });

  it('applies retentionDays to noncurrent versions', () => {
    const app = appWith({ retentionDays: '30' });
    const stack = new CohortRefreshStack(app, 'CohortRefreshStack', { config: readStackConfig(app.node) });

    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } })]),
      },
    });
  });

  it('creates its own lake bucket without context', () => {
    const stack = new CohortRefreshStack(appWith({}), 'CohortRefreshStack');

    Template.fromStack(stack).resourceCountIs('AWS::S3::Bucket', 6);
  });
});

describe('CohortRefreshStack outputs', () => {
  it('exports the names the CLI needs to find the deployment', () => {
    const stack = new CohortRefreshStack(appWith({}), 'CohortRefreshStack');
    const template = Template.fromStack(stack);

    for (const name of [
      'EventLakeBucketName',
      'DefinitionsBucketName',
      'SnapshotsBucketName',
      'ExportsBucketName',
      'AthenaResultsBucketName',
      'AlertsTopicArn',
      'StateMachineArn',
    ]) {
      template.hasOutput(name, { Value: Match.anyValue() });
    }
    template.hasOutput('DatabaseName', { Value: 'cohort_refresh' });
    template.hasOutput('WorkGroupName', { Value: 'cohort-refresh' });
    // No lake prefix: no output (CloudFormation refuses an empty value).
    expect(Object.keys(template.findOutputs('EventLakePrefix'))).toEqual([]);
  });

  it('exports the lake prefix when the lake lives under one', () => {
    const app = appWith({ lakePrefix: 'lake/' });
    const stack = new CohortRefreshStack(app, 'CohortRefreshStack', { config: readStackConfig(app.node) });

    Template.fromStack(stack).hasOutput('EventLakePrefix', { Value: 'lake/' });
  });
});
