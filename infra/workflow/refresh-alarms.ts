import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

/** The alarms of the refresh state machine, each published to the alerts topic. */
export interface RefreshAlarms {
  /** Executions that failed (after AlertFailure, or when even it could not run). */
  readonly failed: cloudwatch.Alarm;
  /** Executions stopped by the state machine timeout: no Catch sees these, so only this alarm tells. */
  readonly timedOut: cloudwatch.Alarm;
  /** Executions Step Functions throttled. */
  readonly throttled: cloudwatch.Alarm;
  /** Executions someone stopped. */
  readonly aborted: cloudwatch.Alarm;
}

/** One alarm per bad execution outcome: any occurrence in five minutes alarms. */
export function refreshAlarms(scope: Construct, stateMachine: sfn.StateMachine, topic: sns.ITopic): RefreshAlarms {
  const action = new actions.SnsAction(topic);
  const alarm = (id: string, metric: cloudwatch.Metric, what: string): cloudwatch.Alarm => {
    const created = new cloudwatch.Alarm(scope, id, {
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `A cohort refresh execution ${what}. See the state machine's executions and its log group.`,
    });
    created.addAlarmAction(action);
    return created;
  };
  const every = { period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM };
  return {
    failed: alarm('ExecutionsFailedAlarm', stateMachine.metricFailed(every), 'failed'),
    timedOut: alarm('ExecutionsTimedOutAlarm', stateMachine.metricTimedOut(every), 'timed out'),
    throttled: alarm('ExecutionThrottledAlarm', stateMachine.metricThrottled(every), 'was throttled'),
    aborted: alarm('ExecutionsAbortedAlarm', stateMachine.metricAborted(every), 'was aborted'),
  };
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
