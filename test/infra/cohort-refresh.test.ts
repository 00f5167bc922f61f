import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { CohortRefresh, type CohortRefreshProps, UploadsLeftOutError } from '../../infra/cohort-refresh.ts';
import { InvalidPropError } from '../../infra/common/validate-props.ts';
import { CADENCES } from '../../shared/language/ast.ts';
import { refTo, resourceOf, templateOf } from './support.ts';

/** A user's own stack embedding the product as `Cohorts`. */
function givenEmbedded(props: CohortRefreshProps | ((stack: Stack) => CohortRefreshProps) = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'PlatformStack');
  const cohorts = new CohortRefresh(stack, 'Cohorts', typeof props === 'function' ? props(stack) : props);
  return { stack, cohorts };
}

describe('CohortRefresh, the construct to embed', () => {
  it('creates the whole product by default: foundation, state machine, schedules, uploads, dashboard', () => {
    // GIVEN / WHEN
    const { stack, cohorts } = givenEmbedded();
    // THEN
    const template = templateOf(stack);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    template.resourceCountIs('AWS::Scheduler::Schedule', CADENCES.length);
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.resourceCountIs('AWS::S3::Bucket', 6);
    template.resourceCountIs('AWS::Glue::Database', 1);
    template.resourceCountIs('AWS::Athena::WorkGroup', 1);
    expect(cohorts.stateMachine).toBe(cohorts.refresh.stateMachine);
    expect(cohorts.schedules).toBeDefined();
    expect(cohorts.uploads).toBeDefined();
    expect(cohorts.dashboard).toBeDefined();
  });

  it('keeps the inner construct ids under its own id, so two products fit in one stack', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'PlatformStack');
    const first = new CohortRefresh(stack, 'Cohorts');
    const second = new CohortRefresh(stack, 'Trial', {
      databaseName: 'cohort_trial',
      workGroupName: 'cohort-trial',
      stateMachineProps: { stateMachineName: 'cohort-trial' },
    });

    expect(first.foundation.node.path).toBe('PlatformStack/Cohorts/CohortRefresh');
    expect(refTo(first.stateMachine).Ref).toMatch(/^CohortsRefreshStateMachine/);
    expect(refTo(second.stateMachine).Ref).toMatch(/^TrialRefreshStateMachine/);
    Template.fromStack(stack).resourceCountIs('AWS::StepFunctions::StateMachine', 2);
  });

  it('leaves out the schedules, the upload flow and the dashboard when told to', () => {
    // GIVEN / WHEN
    const { stack, cohorts } = givenEmbedded({ schedules: false, uploads: false, dashboard: false });
    // THEN
    const template = templateOf(stack);
    template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    template.resourceCountIs('AWS::Events::Rule', 0);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    // Without the upload flow the definitions bucket sends no EventBridge notifications.
    expect(resourceOf(template, cohorts.foundation.definitionsBucket).Properties.NotificationConfiguration).toBeUndefined();
    expect([cohorts.schedules, cohorts.uploads, cohorts.dashboard]).toEqual([undefined, undefined, undefined]);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
  });

  it('passes the overrides of each inner construct through', () => {
    const { stack } = givenEmbedded({
      stateMachineProps: { stateMachineName: 'cohorts-platform', snapshotConcurrency: 2 },
      scheduleExpressions: { daily: 'cron(30 4 * * ? *)' },
      dashboardProps: { dashboardName: 'cohorts-board' },
    });
    const template = templateOf(stack);

    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineName: 'cohorts-platform' });
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(30 4 * * ? *)' });
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'cohorts-board' });
  });

  it.each<[string, CohortRefreshProps, string]>([
    ['schedule expressions without schedules', { schedules: false, scheduleExpressions: { daily: 'rate(1 day)' } }, 'scheduleExpressions'],
    ['upload overrides without uploads', { uploads: false, uploadsProps: {} }, 'uploadsProps'],
    ['dashboard overrides without a dashboard', { dashboard: false, dashboardProps: { dashboardName: 'x' } }, 'dashboardProps'],
  ])('refuses %s', (_, props, named) => {
    expect(() => givenEmbedded(props)).toThrow(InvalidPropError);
    expect(() => givenEmbedded(props)).toThrow(named);
  });

  it("reads the platform's own lake bucket with its key, and stays cdk-nag clean", () => {
    const { stack } = givenEmbedded((scope) => ({
      eventLakeBucket: s3.Bucket.fromBucketAttributes(scope, 'Lake', {
        bucketName: 'platform-lake',
        encryptionKey: kms.Key.fromKeyArn(scope, 'LakeKey', 'arn:aws:kms:eu-central-1:123456789012:key/0000-lake'),
      }),
      eventLakePrefix: 'raw/',
    }));
    const template = templateOf(stack);

    template.resourceCountIs('AWS::S3::Bucket', 5);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'kms:Decrypt', Resource: 'arn:aws:kms:eu-central-1:123456789012:key/0000-lake' }),
        ]),
      },
    });
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });

  it('grants outside principals through its own methods, the upload one only with the upload flow', () => {
    // GIVEN
    const { stack, cohorts } = givenEmbedded();
    const analysts = new iam.Role(stack, 'Analysts', { assumedBy: new iam.AccountRootPrincipal() });
    // WHEN
    cohorts.grantUpload(analysts);
    cohorts.grantReadExports(analysts);
    cohorts.grantStartRefresh(analysts);
    cohorts.grantPlan(analysts);
    // THEN
    const statements = templateOf(stack).toJSON().Resources;
    const policy = JSON.stringify(
      Object.values(statements as Record<string, { Type: string; Properties: { Roles?: unknown[] } }>).filter(
        (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(refTo(analysts).Ref),
      ),
    );
    expect(policy).toContain('incoming/*');
    expect(policy).toContain('states:StartExecution');
    // plan --cloud, a list cohort's query included: the definitions bucket (lists/ in it) and the Glue table lists.
    expect(policy).toContain(refTo(cohorts.foundation.definitionsBucket).Ref);
    expect(policy).toContain('table/cohort_refresh/lists');
    expect(policy).toContain(refTo(cohorts.foundation.exportsBucket).Ref);

    const withoutUploads = givenEmbedded({ uploads: false });
    const role = new iam.Role(withoutUploads.stack, 'Analysts', { assumedBy: new iam.AccountRootPrincipal() });
    expect(() => withoutUploads.cohorts.grantUpload(role)).toThrow(UploadsLeftOutError);
  });
});
