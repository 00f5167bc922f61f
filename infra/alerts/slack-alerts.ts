import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as chatbot from 'aws-cdk-lib/aws-chatbot';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { deploymentEnvironment, SERVICE_NAME } from '../../shared/cloud/environment.ts';
import { anyOccurrenceAlarm, FIVE_MINUTE_SUM } from '../common/alarms.ts';
import { acknowledgePinnedRuntime, acknowledgeWildcardResources, WILDCARD_REASONS } from '../common/nag-acknowledgements.ts';
import { refreshFunction } from '../common/refresh-function.ts';

/** A Slack channel AWS Chatbot (Amazon Q Developer in chat applications) posts the alerts to. */
export interface SlackChannel {
  /** The Slack workspace id (`T...`), shown in the Chatbot console once the workspace is authorized there. */
  readonly workspaceId: string;
  /** The channel id (`C...`; in Slack: channel details, at the bottom). Invite the app with `/invite @Amazon Q` in a private channel. */
  readonly channelId: string;
  /**
   * Name of the Chatbot channel configuration; unique per account. 1 to 128 letters, digits, `-` and `_`.
   *
   * @default 'cohort-refresh-alerts'
   */
  readonly configurationName?: string;
}

/** Properties of {@link SlackAlerts}. */
export interface SlackAlertsProps {
  /** The alerts topic. */
  readonly topic: sns.ITopic;
  /** The key that encrypts the topic: the webhook function's alarm publishes with it. */
  readonly topicKey: kms.IKey;
  /** A Chatbot channel subscribed to the topic. */
  readonly channel?: SlackChannel;
  /** A secret holding a Slack incoming-webhook URL, which a subscriber function posts each alert to. */
  readonly webhookSecret?: secretsmanager.ISecret;
}

/**
 * The alerts in Slack, either way or both: an AWS Chatbot channel configuration subscribed to the
 * topic (alerts carry a Chatbot custom-notification variant for it), and a small Lambda function
 * subscribed to the topic that posts each alert to an incoming webhook read from Secrets Manager.
 */
export class SlackAlerts extends Construct {
  /** The Chatbot channel configuration, when a channel was given. */
  public readonly channelConfiguration?: chatbot.SlackChannelConfiguration;
  /** The webhook subscriber, when a secret was given. */
  public readonly webhookFunction?: lambda.Function;
  /** Alarms (to the alerts topic, so e-mail tells) when the webhook function fails, e.g. after Slack revoked the webhook. */
  public readonly webhookErrorsAlarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: SlackAlertsProps) {
    super(scope, id);
    if (props.channel) {
      this.channelConfiguration = new chatbot.SlackChannelConfiguration(this, 'Channel', {
        slackChannelConfigurationName: props.channel.configurationName ?? 'cohort-refresh-alerts',
        slackWorkspaceId: props.channel.workspaceId,
        slackChannelId: props.channel.channelId,
        notificationTopics: [props.topic],
        loggingLevel: chatbot.LoggingLevel.ERROR,
        // Notifications only: the channel role holds no permissions, and this guardrail keeps anyone
        // from running AWS commands from the channel even if one is added later.
        guardrailPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AWSDenyAll')],
        userRoleRequired: false,
      });
    }
    if (props.webhookSecret) {
      const secret = props.webhookSecret;
      const fn = refreshFunction(this, 'WebhookFunction', {
        entry: 'slack-alerts.ts',
        description: 'cohort-refresh SlackAlerts: posts each alert to a Slack incoming webhook',
        environment: deploymentEnvironment({ name: SERVICE_NAME }, { SLACK_WEBHOOK_SECRET: secret.secretFullArn ?? secret.secretArn }),
        timeout: Duration.seconds(30),
        memorySize: 256,
        logRetention: logs.RetentionDays.THREE_MONTHS,
        logRemovalPolicy: RemovalPolicy.DESTROY,
      });
      secret.grantRead(fn);
      props.topic.addSubscription(new subscriptions.LambdaSubscription(fn));
      acknowledgeWildcardResources(fn.role as iam.Role, WILDCARD_REASONS);
      acknowledgePinnedRuntime(fn);
      this.webhookFunction = fn;

      this.webhookErrorsAlarm = anyOccurrenceAlarm(
        this,
        'WebhookErrorsAlarm',
        fn.metricErrors(FIVE_MINUTE_SUM),
        { topic: props.topic, key: props.topicKey },
        'Posting a cohort refresh alert to Slack failed. See the SlackAlerts function log: an invalid_token or no_service answer means the webhook was revoked; replace the URL in the secret.',
      );
    }
  }
}
