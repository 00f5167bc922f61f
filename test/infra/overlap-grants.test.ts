import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CohortRefreshStack } from '../../infra/cohort-refresh-stack.ts';
import { templateOf } from './support.ts';

describe('no overlap of runs: what Plan may read of the state machine, and who gives back the tile store’s lease', () => {
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

  it('lets Finish and AlertFailure give back the tile store’s lease: read and write tiles/lease.json, nothing else of tiles/', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const template = templateOf(new CohortRefreshStack(app, 'CohortRefreshStack', { config: { alertEmails: [] } }));
    const functions = template.findResources('AWS::Lambda::Function');
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    /** The S3 object resources (as JSON) the function's role may act on with `action`. */
    const objectsOf = (description: string, action: string): string[] => {
      const fn = Object.values(functions).find((f) => String(f.Properties.Description).startsWith(description));
      const role = JSON.stringify(fn?.Properties.Role['Fn::GetAtt'][0]);
      return policies
        .filter((p) => JSON.stringify(p.Properties.Roles).includes(role))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
        .filter((st) => [st.Action].flat().includes(action))
        .flatMap((st) => [st.Resource].flat().map((r) => JSON.stringify(r)));
    };
    for (const step of ['cohort-refresh Finish', 'cohort-refresh AlertFailure']) {
      const writes = objectsOf(step, 's3:PutObject').filter((r) => r.includes('/tiles/'));
      expect(writes, step).toHaveLength(1);
      expect(writes[0], step).toContain('"/tiles/lease.json"');
      expect(
        objectsOf(step, 's3:GetObject').filter((r) => r.includes('/tiles/')),
        step,
      ).toEqual(writes);
    }
  });
});
