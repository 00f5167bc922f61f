import { App, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { CohortFoundation, type CohortFoundationProps } from '../../infra/foundation/cohort-foundation.ts';
import { CohortRefreshStack } from '../../infra/cohort-refresh-stack.ts';
import { readStackConfig } from '../../infra/stack-config.ts';
import { InvalidPropError } from '../../infra/common/validate-props.ts';
import { RefreshStateMachine } from '../../infra/workflow/refresh-state-machine.ts';
import { arnOf, givenFoundation, refTo, templateOf } from './support.ts';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-central-1:111122223333:secret:cohort-refresh/slack-AbC123';
const CHANNEL = { workspaceId: 'T0123ABCD', channelId: 'C0456EFGH' };

/** GIVEN the foundation with Slack delivery and the refresh over it (no bundling). */
function givenSlack(props: (stack: Stack) => CohortFoundationProps) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'TestStack', { env: { account: '111122223333', region: 'eu-central-1' } });
  const foundation = new CohortFoundation(stack, 'CohortRefresh', props(stack));
  const refresh = new RefreshStateMachine(stack, 'Refresh', { foundation });
  return { stack, foundation, refresh };
}

const withBoth = (stack: Stack): CohortFoundationProps => ({
  slackChannel: CHANNEL,
  slackWebhookSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Webhook', SECRET_ARN),
});

describe('Slack delivery of the alerts', () => {
  let given: ReturnType<typeof givenSlack>;
  let template: Template;

  beforeAll(() => {
    given = givenSlack(withBoth);
    template = templateOf(given.stack);
  });

  it('subscribes an AWS Chatbot channel to the alerts topic that can run no AWS command', () => {
    // THEN
    template.hasResourceProperties('AWS::Chatbot::SlackChannelConfiguration', {
      ConfigurationName: 'cohort-refresh-alerts',
      SlackWorkspaceId: 'T0123ABCD',
      SlackChannelId: 'C0456EFGH',
      SnsTopicArns: [refTo(given.foundation.alertsTopic)],
      GuardrailPolicies: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AWSDenyAll']] }],
      UserRoleRequired: false,
      LoggingLevel: 'ERROR',
    });
    const role = given.foundation.slackAlerts?.channelConfiguration?.role;
    expect(role).toBeDefined();
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([refTo(role as never)]) } });
    expect(Object.keys(policies)).toEqual([]);
  });

  it('tells the refresh functions to publish the Chatbot variant of each alert', () => {
    const fn = template.toJSON().Resources[refTo(given.refresh.functions.finish).Ref];

    expect(fn.Properties.Environment.Variables.ALERTS_FORMAT).toBe('chatbot');
  });

  it('subscribes the webhook function to the alerts topic and lets it read only the webhook secret', () => {
    // GIVEN
    const fn = given.foundation.slackAlerts?.webhookFunction;
    expect(fn).toBeDefined();
    // THEN
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: refTo(given.foundation.alertsTopic),
      Endpoint: arnOf(fn as never),
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'sns.amazonaws.com',
      SourceArn: refTo(given.foundation.alertsTopic),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Environment: { Variables: Match.objectLike({ SLACK_WEBHOOK_SECRET: SECRET_ARN }) },
    });
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: Match.arrayWith([refTo((fn as never as { role: never }).role)]) },
    });
    const statements = Object.values(policies).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
    );
    const secretStatements = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:')));
    expect(secretStatements).toEqual([
      expect.objectContaining({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: SECRET_ARN }),
    ]);
    for (const statement of statements) expect([statement.Action].flat()).not.toContain('*');
  });

  it('alarms to the alerts topic when the webhook function fails, and lets alarms publish to the encrypted topic once', () => {
    const fn = given.foundation.slackAlerts?.webhookFunction;

    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: refTo(fn as never) }],
      Threshold: 1,
      AlarmActions: [refTo(given.foundation.alertsTopic)],
    });
    const topicPolicies = Object.values(template.findResources('AWS::SNS::TopicPolicy'));
    const sids = topicPolicies.flatMap((p) => (p.Properties.PolicyDocument.Statement as { Sid?: string }[]).map((s) => s.Sid));
    expect(sids.filter((sid) => sid === 'AllowCloudWatchAlarms')).toHaveLength(1);
  });

  it('passes cdk-nag AwsSolutions with every acknowledgement explained', () => {
    expect(new AwsSolutionsChecks().validateScope(given.stack).violations).toEqual([]);
  });

  it('leaves the alert format at text without a Chatbot channel', () => {
    const { stack, refresh } = givenSlack((scope) => ({
      slackWebhookSecret: secretsmanager.Secret.fromSecretNameV2(scope, 'Webhook', 'slack-webhook'),
    }));
    const t = templateOf(stack);

    t.resourceCountIs('AWS::Chatbot::SlackChannelConfiguration', 0);
    expect(t.toJSON().Resources[refTo(refresh.functions.finish).Ref].Properties.Environment.Variables).not.toHaveProperty('ALERTS_FORMAT');
  });

  it.each<[string, CohortFoundationProps['slackChannel'], string]>([
    [
      'a lower-case workspace id',
      { workspaceId: 't0123abcd', channelId: 'C1' },
      'slackChannel.workspaceId must be a Slack workspace id of A-Z and 0-9 such as "T0123ABCD", got "t0123abcd"',
    ],
    [
      'a channel name for an id',
      { workspaceId: 'T1', channelId: '#alerts' },
      'slackChannel.channelId must be a Slack channel id of letters and digits such as "C0456EFGH", got "#alerts"',
    ],
    [
      'a configuration name with a space',
      { ...CHANNEL, configurationName: 'cohort alerts' },
      'slackChannel.configurationName must be 1 to 128 letters, digits, "-" or "_", got "cohort alerts"',
    ],
  ])('rejects %s and shows the bad value', (_, slackChannel, message) => {
    expect(() => givenFoundation({ ...(slackChannel ? { slackChannel } : {}) })).toThrow(new InvalidPropError(message));
  });
});

describe('the Slack webhook secret from context', () => {
  const appWith = (context: Record<string, unknown>) => new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });

  it.each([
    [
      'a name',
      'cohort-refresh/slack',
      {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':secretsmanager:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':secret:cohort-refresh/slack-??????',
          ],
        ],
      },
    ],
    ['a complete ARN', SECRET_ARN, SECRET_ARN],
    [
      'a partial ARN',
      'arn:aws:secretsmanager:eu-central-1:111122223333:secret:slack',
      'arn:aws:secretsmanager:eu-central-1:111122223333:secret:slack-??????',
    ],
  ])('import the webhook secret given as %s and grant reading exactly it', (_, value, resource) => {
    // GIVEN
    const app = appWith({ slackWebhookSecret: value });
    // WHEN
    const template = templateOf(new CohortRefreshStack(app, 'CohortRefreshStack', { config: readStackConfig(app.node) }));
    // THEN
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: resource }),
        ]),
      },
    });
  });
});
