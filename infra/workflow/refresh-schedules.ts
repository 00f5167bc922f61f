import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { CADENCES, type Cadence } from '../../shared/language/ast.ts';
import { type AlarmTopic, anyOccurrenceAlarm, FIVE_MINUTE_SUM } from '../common/alarms.ts';
import { InvalidPropError } from '../common/validate-props.ts';

/** When each cadence runs by default (UTC), spread so runs do not start together. */
export const DEFAULT_SCHEDULES: Readonly<Record<Cadence, string>> = {
  realtime: 'rate(5 minutes)',
  hourly: 'cron(5 * * * ? *)',
  daily: 'cron(0 6 * * ? *)',
  weekly: 'cron(30 6 ? * MON *)',
  monthly: 'cron(0 7 1 * ? *)',
  quarterly: 'cron(0 8 1 1,4,7,10 ? *)',
};

/** Properties of {@link RefreshSchedules}. */
export interface RefreshSchedulesProps {
  /** The refresh state machine each schedule starts. */
  readonly stateMachine: sfn.IStateMachine;
  /** The alerts topic the alarm on dropped starts publishes to. */
  readonly alerts: AlarmTopic;
  /**
   * EventBridge Scheduler expressions by cadence, e.g. `{ daily: 'cron(30 4 * * ? *)' }`.
   *
   * @default - DEFAULT_SCHEDULES for every cadence not given
   */
  readonly expressions?: Partial<Record<Cadence, string>>;
}

/**
 * One EventBridge Scheduler schedule per cadence, each starting the refresh state machine with
 * `{"trigger": "schedule:<cadence>", "cadence": "<cadence>"}`: the cohorts of that cadence and
 * everything they depend on are refreshed as of the execution's start. The schedules have a group
 * of their own, so that a start the scheduler gave up on (its retries spent: the role denied, the
 * state machine gone, throttling) raises an alarm: no execution exists, so none of the state
 * machine's alarms can see it.
 */
export class RefreshSchedules extends Construct {
  /** The schedules, by cadence. */
  public readonly schedules: Readonly<Record<Cadence, scheduler.Schedule>>;
  /** The group holding the schedules (its name generated, so two deployments in one account never share it). */
  public readonly group: scheduler.ScheduleGroup;
  /** Any scheduled start dropped after the scheduler's retries (`InvocationDroppedCount` of the group). */
  public readonly droppedAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: RefreshSchedulesProps) {
    super(scope, id);
    for (const [cadence, expression] of Object.entries(props.expressions ?? {})) {
      if (!(CADENCES as readonly string[]).includes(cadence)) {
        throw new InvalidPropError(`expressions: unknown cadence ${JSON.stringify(cadence)}; use one of ${CADENCES.join(', ')}`);
      }
      if (!/^(cron|rate)\(.+\)$/.test(expression ?? '')) {
        throw new InvalidPropError(`expressions.${cadence} must be a cron(...) or rate(...) expression, got ${JSON.stringify(expression)}`);
      }
    }
    this.group = new scheduler.ScheduleGroup(this, 'Group');
    const schedules = {} as Record<Cadence, scheduler.Schedule>;
    for (const cadence of CADENCES) {
      const expression = props.expressions?.[cadence] ?? DEFAULT_SCHEDULES[cadence];
      schedules[cadence] = new scheduler.Schedule(this, `Refresh-${cadence}`, {
        description: `Refreshes the ${cadence} cohorts and what they depend on`,
        scheduleGroup: this.group,
        schedule: scheduler.ScheduleExpression.expression(expression),
        target: new targets.StepFunctionsStartExecution(props.stateMachine, {
          input: scheduler.ScheduleTargetInput.fromObject({ trigger: `schedule:${cadence}`, cadence }),
          retryAttempts: 2,
        }),
      });
    }
    this.schedules = schedules;
    this.droppedAlarm = anyOccurrenceAlarm(
      this,
      'DroppedAlarm',
      this.group.metricDropped(FIVE_MINUTE_SUM),
      props.alerts,
      'A scheduled cohort refresh was never started: EventBridge Scheduler gave up after its retries. ' +
        "See the schedule group's TargetErrorCount and the schedules' role (states:StartExecution).",
    );
  }
}
