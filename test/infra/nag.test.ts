import { App, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { CohortRefreshStack } from '../../infra/cohort-refresh-stack.ts';
import { givenFoundation } from './support.ts';

/** Every `Validations.of(x).acknowledge()` in the tree, with the construct it was made on. */
function acknowledgementsIn(root: IConstruct): { path: string; id: string; reason: unknown }[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, unknown>).map(([id, reason]) => ({
          path: construct.node.path,
          id,
          reason,
        })),
      ),
  );
}

describe('cdk-nag AwsSolutions checks', () => {
  it('report no unacknowledged violation for the construct with defaults', () => {
    // GIVEN
    const { stack } = givenFoundation();
    // WHEN
    const report = new AwsSolutionsChecks().validateScope(stack);
    // THEN
    expect(report.violations).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('report no unacknowledged violation with an existing lake and alert subscriptions', () => {
    const { stack } = givenFoundation((scope) => ({
      eventLakeBucket: s3.Bucket.fromBucketName(scope, 'Lake', 'company-event-lake'),
      eventLakePrefix: 'raw/',
      alertEmails: ['growth@example.com'],
    }));

    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });

  it('report no unacknowledged violation for the deployable stack', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new CohortRefreshStack(app, 'CohortRefreshStack', {
      config: { alertEmails: ['growth@example.com'], lakeBucketName: 'company-event-lake' },
    });

    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });

  it('report no unacknowledged violation for the deployable stack with Slack delivery both ways and the dashboard, each acknowledgement explained', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new CohortRefreshStack(app, 'CohortRefreshStack', {
      config: {
        alertEmails: [],
        slackChannel: { workspaceId: 'T0123ABCD', channelId: 'C0456EFGH' },
        slackWebhookSecret: 'cohort-refresh/slack-webhook',
      },
    });

    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
    const slack = acknowledgementsIn(stack).filter(({ path }) => path.includes('/Slack/'));
    expect(slack.map(({ id }) => id.replace(/^Annotation::/, '')).sort()).toEqual(['AwsSolutions-IAM5[Resource::*]', 'AwsSolutions-L1']);
    for (const { reason } of slack) expect(String(reason).trim().length).toBeGreaterThan(10);
  });

  it('flag nothing on a grantee but object-key wildcards, which a prefix of keys needs', () => {
    // GIVEN a role given every grant
    const { stack, foundation } = givenFoundation();
    const role = new iam.Role(stack, 'Refresh', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    foundation.grantQueryLake(role);
    foundation.grantWriteSnapshots(role);
    foundation.grantWriteExports(role);
    foundation.grantReadDefinitions(role);
    foundation.grantPublishAlerts(role);
    // WHEN
    const rules = new AwsSolutionsChecks().validateScope(stack).violations.map((v) => v.ruleName);
    // THEN
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) expect(rule).toMatch(/^AwsSolutions-IAM5\[Resource::.*\/\*\]$/);
  });

  it('give a reason for every acknowledgement', () => {
    const { stack } = givenFoundation();

    const acknowledgements = acknowledgementsIn(stack);

    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const { reason } of acknowledgements) {
      expect(typeof reason).toBe('string');
      expect((reason as string).trim().length).toBeGreaterThan(10);
    }
  });
});
