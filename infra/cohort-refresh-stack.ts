import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { CohortRefresh } from './cohort-refresh.ts';
import type { StackConfig } from './stack-config.ts';

/** Properties of {@link CohortRefreshStack}. */
export interface CohortRefreshStackProps extends StackProps {
  /**
   * Settings usually read from context with `readStackConfig`.
   *
   * @default - every CohortRefresh default, no alert subscriptions
   */
  readonly config?: StackConfig;
}

/** The deployable cohort-refresh stack: one {@link CohortRefresh} configured from context, and the outputs the CLI reads. */
export class CohortRefreshStack extends Stack {
  /** The cohort-refresh product. */
  public readonly cohortRefresh: CohortRefresh;

  constructor(scope: Construct, id: string, props: CohortRefreshStackProps = {}) {
    super(scope, id, {
      description: 'cohort-refresh: keeps customer cohorts fresh over an S3 event lake with Athena',
      ...props,
    });
    const config = props.config ?? { alertEmails: [] };
    // Imported by name, the lake's encryption is unknown here; an SSE-KMS lake needs its
    // key granted separately (or embed CohortRefresh and pass Bucket.fromBucketAttributes).
    const eventLakeBucket = config.lakeBucketName ? s3.Bucket.fromBucketName(this, 'EventLakeBucket', config.lakeBucketName) : undefined;
    const slackWebhookSecret = config.slackWebhookSecret ? importSecret(this, 'SlackWebhookSecret', config.slackWebhookSecret) : undefined;
    // The id "Default" is left out of logical ids: the resources keep the ids they had when the
    // stack held the inner constructs itself, so deployed stacks update in place.
    this.cohortRefresh = new CohortRefresh(this, 'Default', {
      alertEmails: config.alertEmails,
      ...(config.slackChannel ? { slackChannel: config.slackChannel } : {}),
      ...(slackWebhookSecret ? { slackWebhookSecret } : {}),
      ...(eventLakeBucket ? { eventLakeBucket } : {}),
      ...(config.lakePrefix === undefined ? {} : { eventLakePrefix: config.lakePrefix }),
      ...(config.noncurrentVersionRetention ? { noncurrentVersionRetention: config.noncurrentVersionRetention } : {}),
      ...(config.schedules ? { scheduleExpressions: config.schedules } : {}),
      ...(config.dashboard === false ? { dashboard: false } : {}),
    });

    const { foundation, dashboard, stateMachine } = this.cohortRefresh;
    if (dashboard) new CfnOutput(this, 'DashboardName', { value: dashboard.dashboard.dashboardName });
    // What the CLI and operators need to find the deployment.
    const outputs: Record<string, string> = {
      EventLakeBucketName: foundation.eventLakeBucket.bucketName,
      DefinitionsBucketName: foundation.definitionsBucket.bucketName,
      SnapshotsBucketName: foundation.snapshotsBucket.bucketName,
      ExportsBucketName: foundation.exportsBucket.bucketName,
      AthenaResultsBucketName: foundation.athenaResultsBucket.bucketName,
      // CloudFormation refuses an empty output value: no prefix, no output (the CLI defaults to '').
      ...(foundation.eventLakePrefix ? { EventLakePrefix: foundation.eventLakePrefix } : {}),
      DatabaseName: foundation.catalog.databaseName,
      WorkGroupName: foundation.queryWorkGroup.workGroupName,
      AlertsTopicArn: foundation.alertsTopic.topicArn,
      StateMachineArn: stateMachine.stateMachineArn,
    };
    for (const [name, value] of Object.entries(outputs)) new CfnOutput(this, name, { value });
  }
}

/** A secret by name, by complete ARN (ending in `-` and six characters) or by partial ARN. */
function importSecret(scope: Construct, id: string, nameOrArn: string): secretsmanager.ISecret {
  if (!nameOrArn.startsWith('arn:')) return secretsmanager.Secret.fromSecretNameV2(scope, id, nameOrArn);
  return /-[A-Za-z0-9]{6}$/.test(nameOrArn)
    ? secretsmanager.Secret.fromSecretCompleteArn(scope, id, nameOrArn)
    : secretsmanager.Secret.fromSecretPartialArn(scope, id, nameOrArn);
}
