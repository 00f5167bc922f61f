import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';

/** The alerts topic an alarm publishes to, and the key that encrypts it. */
export interface AlarmTopic {
  readonly topic: sns.ITopic;
  readonly key: kms.IKey;
}

/** How every alarm of the product reads its metric: the sum over five minutes. */
export const FIVE_MINUTE_SUM: cloudwatch.MetricOptions = { period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM };

/**
 * An alarm on any occurrence: the metric (read with {@link FIVE_MINUTE_SUM}) reaches 1 in five
 * minutes; no data is not a breach. It publishes to the alerts topic, which it lets alarms publish to.
 */
export function anyOccurrenceAlarm(
  scope: Construct,
  id: string,
  metric: cloudwatch.IMetric,
  alerts: AlarmTopic,
  description: string,
): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, id, {
    metric,
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: description,
  });
  alarm.addAlarmAction(new actions.SnsAction(alerts.topic));
  allowAlarmsToPublish(alerts.topic, alerts.key);
  return alarm;
}

const alarmPublishers = new WeakSet<sns.ITopic>();

/**
 * Lets this account's CloudWatch alarms publish to a KMS-encrypted topic: the topic policy must
 * allow the service (the policy enforcing TLS replaced SNS's default one) and the key policy must
 * let it encrypt; without both, alarm notifications are dropped silently.
 */
export function allowAlarmsToPublish(topic: sns.ITopic, key: kms.IKey): void {
  // Several constructs alarm on one topic; the statements (fixed Sids) go in once.
  if (alarmPublishers.has(topic)) return;
  alarmPublishers.add(topic);
  const stack = Stack.of(topic);
  const fromOurAlarms = {
    ArnLike: {
      'aws:SourceArn': stack.formatArn({
        service: 'cloudwatch',
        resource: 'alarm',
        resourceName: '*',
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    },
    StringEquals: { 'aws:SourceAccount': stack.account },
  };
  const cloudWatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarms',
      principals: [cloudWatch],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: fromOurAlarms,
    }),
  );
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarmsToEncryptAlerts',
      principals: [cloudWatch],
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      // In a key policy "*" is the key the policy is attached to, nothing else.
      resources: ['*'],
      conditions: fromOurAlarms,
    }),
  );
}
