import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { CohortRefresh } from './cohort-refresh.ts';
import { RefreshDashboard } from './observability/refresh-dashboard.ts';
import type { StackConfig } from './stack-config.ts';
import { DefinitionUploads } from './workflow/definition-uploads.ts';
import { RefreshSchedules } from './workflow/refresh-schedules.ts';
import { RefreshStateMachine } from './workflow/refresh-state-machine.ts';

/** Properties of {@link CohortRefreshStack}. */
export interface CohortRefreshStackProps extends StackProps {
  /**
   * Settings usually read from context with `readStackConfig`.
   *
   * @default - every CohortRefresh default, no alert subscriptions
   */
  readonly config?: StackConfig;
}

/** The deployable cohort-refresh stack. */
export class CohortRefreshStack extends Stack {
  /** The cohort-refresh resources. */
  public readonly cohortRefresh: CohortRefresh;
  /** The refresh state machine with its functions, logs and alarms. */
  public readonly refresh: RefreshStateMachine;
  /** The refresh state machine itself (`refresh.stateMachine`). */
  public readonly stateMachine: RefreshStateMachine['stateMachine'];
  /** One schedule per cadence, starting the state machine. */
  public readonly schedules: RefreshSchedules;
  /** The CloudWatch dashboard of the refresh, unless the `dashboard` context value is false. */
  public readonly dashboard?: RefreshDashboard;
  /** Validation of definitions uploaded under `incoming/`, starting refreshes of accepted ones. */
  public readonly uploads: DefinitionUploads;

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
    this.cohortRefresh = new CohortRefresh(this, 'CohortRefresh', {
      alertEmails: config.alertEmails,
      ...(config.slackChannel ? { slackChannel: config.slackChannel } : {}),
      ...(slackWebhookSecret ? { slackWebhookSecret } : {}),
      ...(eventLakeBucket ? { eventLakeBucket } : {}),
      ...(config.lakePrefix === undefined ? {} : { eventLakePrefix: config.lakePrefix }),
      ...(config.noncurrentVersionRetention ? { noncurrentVersionRetention: config.noncurrentVersionRetention } : {}),
    });

    this.refresh = new RefreshStateMachine(this, 'Refresh', { cohortRefresh: this.cohortRefresh });
    this.stateMachine = this.refresh.stateMachine;
    this.schedules = new RefreshSchedules(this, 'Schedules', {
      stateMachine: this.stateMachine,
      ...(config.schedules ? { expressions: config.schedules } : {}),
    });
    this.uploads = new DefinitionUploads(this, 'Uploads', {
      cohortRefresh: this.cohortRefresh,
      stateMachine: this.stateMachine,
      eventBus: this.refresh.eventBus,
    });

    if (config.dashboard !== false) {
      const webhookAlarm = this.cohortRefresh.slackAlerts?.webhookErrorsAlarm;
      this.dashboard = new RefreshDashboard(this, 'Dashboard', {
        refresh: this.refresh,
        ...(webhookAlarm ? { alarms: [webhookAlarm] } : {}),
      });
      new CfnOutput(this, 'DashboardName', { value: this.dashboard.dashboard.dashboardName });
    }

    // What the CLI and operators need to find the deployment.
    const outputs: Record<string, string> = {
      EventLakeBucketName: this.cohortRefresh.eventLakeBucket.bucketName,
      DefinitionsBucketName: this.cohortRefresh.definitionsBucket.bucketName,
      SnapshotsBucketName: this.cohortRefresh.snapshotsBucket.bucketName,
      ExportsBucketName: this.cohortRefresh.exportsBucket.bucketName,
      AthenaResultsBucketName: this.cohortRefresh.athenaResultsBucket.bucketName,
      // CloudFormation refuses an empty output value: no prefix, no output (the CLI defaults to '').
      ...(this.cohortRefresh.eventLakePrefix ? { EventLakePrefix: this.cohortRefresh.eventLakePrefix } : {}),
      DatabaseName: this.cohortRefresh.catalog.databaseName,
      WorkGroupName: this.cohortRefresh.workGroupName,
      AlertsTopicArn: this.cohortRefresh.alertsTopic.topicArn,
      StateMachineArn: this.stateMachine.stateMachineArn,
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
