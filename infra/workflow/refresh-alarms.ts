import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { type AlarmTopic, anyOccurrenceAlarm, FIVE_MINUTE_SUM } from '../common/alarms.ts';

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
export function refreshAlarms(scope: Construct, stateMachine: sfn.StateMachine, alerts: AlarmTopic): RefreshAlarms {
  const alarm = (id: string, metric: cloudwatch.Metric, what: string): cloudwatch.Alarm =>
    anyOccurrenceAlarm(
      scope,
      id,
      metric,
      alerts,
      `A cohort refresh execution ${what}. See the state machine's executions and its log group.`,
    );
  return {
    failed: alarm('ExecutionsFailedAlarm', stateMachine.metricFailed(FIVE_MINUTE_SUM), 'failed'),
    timedOut: alarm('ExecutionsTimedOutAlarm', stateMachine.metricTimedOut(FIVE_MINUTE_SUM), 'timed out'),
    throttled: alarm('ExecutionThrottledAlarm', stateMachine.metricThrottled(FIVE_MINUTE_SUM), 'was throttled'),
    aborted: alarm('ExecutionsAbortedAlarm', stateMachine.metricAborted(FIVE_MINUTE_SUM), 'was aborted'),
  };
}
