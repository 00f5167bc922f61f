import { App, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CohortFoundation } from '../../infra/foundation/cohort-foundation.ts';
import { DefinitionUploads } from '../../infra/workflow/definition-uploads.ts';
import { RefreshStateMachine } from '../../infra/workflow/refresh-state-machine.ts';
import { arnOf, refTo, resourceOf, templateOf } from './support.ts';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const DEFAULT_BUS = {
  'Fn::Join': [
    '',
    ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':event-bus/default'],
  ],
};

/** GIVEN the foundation, the refresh state machine and the upload trigger in one stack (no bundling). */
function givenUploads() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'TestStack');
  const foundation = new CohortFoundation(stack, 'CohortRefresh');
  const refresh = new RefreshStateMachine(stack, 'Refresh', { foundation });
  const uploads = new DefinitionUploads(stack, 'Uploads', { foundation, stateMachine: refresh.stateMachine });
  return { stack, foundation, refresh, uploads };
}

function statementsOfRole(template: Template, role: IConstruct): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([refTo(role)]) } });
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

describe('DefinitionUploads', () => {
  let given: ReturnType<typeof givenUploads>;
  let template: Template;

  beforeAll(() => {
    given = givenUploads();
    template = templateOf(given.stack);
  });

  it('turns on EventBridge notifications of the definitions bucket without a custom resource', () => {
    const bucket = resourceOf(template, given.foundation.definitionsBucket);

    expect(bucket.Properties.NotificationConfiguration).toEqual({ EventBridgeConfiguration: { EventBridgeEnabled: true } });
    expect(Object.keys(template.findResources('Custom::S3BucketNotifications'))).toEqual([]);
  });

  it('sends only objects created under incoming/ of the definitions bucket to the upload function, with retries', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: { bucket: { name: [refTo(given.foundation.definitionsBucket)] }, object: { key: [{ prefix: 'incoming/' }] } },
      },
      State: 'ENABLED',
      Targets: [
        Match.objectLike({ Arn: arnOf(given.uploads.function), RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 21600 } }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      SourceArn: arnOf(given.uploads.rule),
    });
  });

  it('gives the function the bucket, the state machine, the topic and the bus it uses', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs22.x',
      Environment: {
        Variables: Match.objectLike({
          DEFINITIONS_BUCKET: refTo(given.foundation.definitionsBucket),
          STATE_MACHINE_ARN: refTo(given.refresh.stateMachine),
          ALERTS_TOPIC_ARN: refTo(given.foundation.alertsTopic),
          EVENT_BUS_NAME: 'default',
        }),
      },
    });
  });

  it('lets the function start only the refresh, put events only on the bus, and write only definitions', () => {
    const statements = statementsOfRole(template, given.uploads.function.role as IConstruct);
    const allowing = (action: string) => statements.filter((s) => list(s.Action).includes(action));

    expect(allowing('states:StartExecution').map((s) => s.Resource)).toEqual([refTo(given.refresh.stateMachine)]);
    expect(allowing('events:PutEvents').map((s) => s.Resource)).toEqual([DEFAULT_BUS]);
    expect(allowing('sns:Publish').map((s) => s.Resource)).toEqual([refTo(given.foundation.alertsTopic)]);
    const writes = JSON.stringify(allowing('s3:PutObject'));
    expect(writes).toContain(refTo(given.foundation.definitionsBucket).Ref);
    for (const other of [given.foundation.snapshotsBucket, given.foundation.exportsBucket]) expect(writes).not.toContain(refTo(other).Ref);
    for (const statement of statements) {
      for (const action of list(statement.Action)) expect(action).not.toContain('*');
      // Only X-Ray, which has no resource-level permissions, on "*".
      if (list(statement.Resource).includes('*')) for (const action of list(statement.Action)) expect(action).toMatch(/^xray:/);
    }
    expect(JSON.stringify(statements)).not.toContain('s3:DeleteObject');
  });

  it('alarms into the alerts topic when an upload could not be handled', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: refTo(given.uploads.function) }],
      Threshold: 1,
      AlarmActions: [refTo(given.foundation.alertsTopic)],
    });
  });

  it('grants analysts uploads under incoming/ only', () => {
    const fresh = givenUploads();
    const role = new iam.Role(fresh.stack, 'Analysts', { assumedBy: new iam.AccountRootPrincipal() });

    fresh.uploads.grantUpload(role);

    const statements = statementsOfRole(templateOf(fresh.stack), role);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 's3:PutObject',
        Resource: { 'Fn::Join': ['', [arnOf(fresh.foundation.definitionsBucket), '/incoming/*']] },
      }),
    );
    expect(statements.flatMap((s) => list(s.Action)).sort()).toEqual(['kms:GenerateDataKey', 's3:PutObject']);
  });

  it('reports no unacknowledged cdk-nag AwsSolutions violation', () => {
    const { stack } = givenUploads();

    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });
});
