import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, it } from 'vitest';
import { CohortRefreshStack } from '../../infra/cohort-refresh-stack.ts';
import { templateOf } from './support.ts';

describe('no overlap of a cadence’s runs: what Plan may read of the state machine', () => {
  it('lets Plan list the running executions of its own state machine and read theirs only, knowing the ARN by name', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const template = templateOf(new CohortRefreshStack(app, 'CohortRefreshStack', { config: { alertEmails: [] } }));
    const arn = (resource: string) =>
      Match.objectLike({
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, resource]],
      });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'states:ListExecutions', Effect: 'Allow', Resource: arn(':stateMachine:cohort-refresh') }),
          Match.objectLike({ Action: 'states:DescribeExecution', Effect: 'Allow', Resource: arn(':execution:cohort-refresh:*') }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'cohort-refresh Plan: select, compile, assign versions',
      Environment: { Variables: Match.objectLike({ STATE_MACHINE_ARN: arn(':stateMachine:cohort-refresh') }) },
    });
  });
});
