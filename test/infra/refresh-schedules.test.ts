import { App, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { CohortFoundation } from '../../infra/foundation/cohort-foundation.ts';
import { CohortRefreshStack } from '../../infra/cohort-refresh-stack.ts';
import { InvalidPropError } from '../../infra/common/validate-props.ts';
import { DEFAULT_SCHEDULES, RefreshSchedules } from '../../infra/workflow/refresh-schedules.ts';
import { CADENCES } from '../../shared/language/ast.ts';
import { RefreshStateMachine } from '../../infra/workflow/refresh-state-machine.ts';
import { templateOf } from './support.ts';

/** GIVEN the state machine and schedules in a test stack (no bundling). */
function givenSchedules(expressions?: ConstructorParameters<typeof RefreshSchedules>[2]['expressions']) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'TestStack');
  const foundation = new CohortFoundation(stack, 'CohortRefresh');
  const refresh = new RefreshStateMachine(stack, 'Refresh', { foundation });
  const schedules = new RefreshSchedules(stack, 'Schedules', {
    stateMachine: refresh.stateMachine,
    alerts: { topic: foundation.alertsTopic, key: foundation.alertsKey },
    ...(expressions ? { expressions } : {}),
  });
  return { stack, refresh, schedules, foundation };
}

describe('RefreshSchedules', () => {
  it('creates one schedule per cadence that starts the state machine with that cadence', () => {
    const { stack, refresh } = givenSchedules();
    const template = templateOf(stack);
    template.resourceCountIs('AWS::Scheduler::Schedule', CADENCES.length);
    for (const [cadence, expression] of Object.entries(DEFAULT_SCHEDULES)) {
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: expression,
        Target: Match.objectLike({
          Arn: stack.resolve(refresh.stateMachine.stateMachineArn),
          Input: JSON.stringify({ trigger: `schedule:${cadence}`, cadence }),
        }),
      });
    }
  });

  it('lets the scheduler start executions of this state machine only', () => {
    const { stack, refresh } = givenSchedules();
    const template = templateOf(stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'states:StartExecution',
            Effect: 'Allow',
            Resource: stack.resolve(refresh.stateMachine.stateMachineArn),
          }),
        ]),
      },
    });
  });

  it('puts the schedules in a group of their own and alarms on any start the scheduler dropped', () => {
    const { stack, schedules, foundation } = givenSchedules();
    const template = templateOf(stack);
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    const group = stack.resolve(schedules.group.scheduleGroupName);
    for (const cadence of CADENCES) {
      expect(stack.resolve((schedules.schedules[cadence].node.defaultChild as { groupName?: string }).groupName)).toEqual(group);
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Scheduler',
      MetricName: 'InvocationDroppedCount',
      Dimensions: [{ Name: 'ScheduleGroup', Value: group }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [stack.resolve(foundation.alertsTopic.topicArn)],
    });
  });

  it('takes an expression per cadence and keeps the defaults for the others', () => {
    const { stack } = givenSchedules({ daily: 'cron(30 4 * * ? *)' });
    const template = templateOf(stack);
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(30 4 * * ? *)' });
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: DEFAULT_SCHEDULES.hourly });
  });

  it('refuses an unknown cadence or an expression that is not cron() or rate(), showing the value', () => {
    expect(() => givenSchedules({ fortnightly: 'rate(14 days)' } as never)).toThrow(InvalidPropError);
    expect(() => givenSchedules({ daily: '0 6 * * *' })).toThrow(InvalidPropError);
    expect(() => givenSchedules({ fortnightly: 'rate(14 days)' } as never)).toThrow('expressions: unknown cadence "fortnightly"');
    expect(() => givenSchedules({ daily: '0 6 * * *' })).toThrow(
      'expressions.daily must be a cron(...) or rate(...) expression, got "0 6 * * *"',
    );
  });

  it('is part of the deployable stack, which stays clean under cdk-nag AwsSolutions', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new CohortRefreshStack(app, 'CohortRefreshStack');
    templateOf(stack).resourceCountIs('AWS::Scheduler::Schedule', CADENCES.length);
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });
});
