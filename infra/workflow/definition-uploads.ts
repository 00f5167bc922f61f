import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { deploymentEnvironment, SERVICE_NAME } from '../../shared/cloud/environment.ts';
import { METRICS_NAMESPACE } from '../../shared/workflow/run-metrics.ts';
import type { CohortFoundation } from '../foundation/cohort-foundation.ts';
import { anyOccurrenceAlarm, FIVE_MINUTE_SUM } from '../common/alarms.ts';
import { acknowledgePinnedRuntime, acknowledgeWildcardResources, WILDCARD_REASONS } from '../common/nag-acknowledgements.ts';
import { refreshFunction } from '../common/refresh-function.ts';
import { INCOMING_PREFIX } from '../../shared/bucket-layout.ts';

/** Properties of {@link DefinitionUploads}. */
export interface DefinitionUploadsProps {
  /** The foundation: its definitions bucket receives uploads, its alerts topic the rejections. */
  readonly foundation: CohortFoundation;

  /** The refresh state machine an accepted upload starts. */
  readonly stateMachine: sfn.IStateMachine;

  /**
   * The bus `Definition Rejected` events go to (source `cohort-refresh`). The S3 notifications
   * that trigger validation always arrive on the default bus, whatever this is.
   *
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;

  /**
   * How long the upload function's logs are kept.
   *
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What happens to the function's log group when it leaves the stack.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * The upload flow of analysts: a definition put under `incoming/` in the definitions bucket
 * raises an S3 `Object Created` event (the bucket's EventBridge notifications, turned on here),
 * which a rule sends to a function that validates the whole catalog with that file. A valid file
 * is copied into the catalog (the bucket's top level, which every refresh reads) and a refresh
 * of that cohort and its dependants starts; an invalid one is alerted (SNS) and announced
 * (`Definition Rejected`), and changes nothing. An alarm tells when the function itself fails.
 */
export class DefinitionUploads extends Construct {
  /** The function that validates an upload, then promotes and refreshes, or rejects. */
  public readonly function: lambda.Function;
  /** The rule matching uploads under `incoming/` of the definitions bucket. */
  public readonly rule: events.Rule;
  /** Alarms when an upload could not be handled (each failed attempt), into the alerts topic. */
  public readonly errorsAlarm: cloudwatch.Alarm;
  private readonly definitionsBucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: DefinitionUploadsProps) {
    super(scope, id);
    const cr = props.foundation;
    this.definitionsBucket = cr.definitionsBucket;
    const eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');

    // EventBridge notifications as the bucket's own CloudFormation property: the L2's
    // enableEventBridgeNotification() would add a custom resource and its Lambda for the same.
    (cr.definitionsBucket.node.defaultChild as s3.CfnBucket).addPropertyOverride(
      'NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled',
      true,
    );

    this.function = refreshFunction(this, 'Function', {
      entry: 'definition-upload.ts',
      description: 'cohort-refresh DefinitionUpload: validate an uploaded definition, then promote and refresh, or reject',
      environment: deploymentEnvironment(
        { name: SERVICE_NAME, metricsNamespace: METRICS_NAMESPACE },
        {
          DEFINITIONS_BUCKET: cr.definitionsBucket.bucketName,
          STATE_MACHINE_ARN: props.stateMachine.stateMachineArn,
          ALERTS_TOPIC_ARN: cr.alertsTopic.topicArn,
          EVENT_BUS_NAME: eventBus.eventBusName,
        },
      ),
      timeout: Duration.minutes(1),
      memorySize: 512,
      logRetention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      logRemovalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    // Reads the upload and the catalog, writes the accepted file into the catalog, starts the
    // refresh, alerts and announces a rejection.
    cr.grantReadDefinitions(this.function);
    cr.grantWriteDefinitions(this.function);
    props.stateMachine.grantStartExecution(this.function);
    cr.grantPublishAlerts(this.function);
    eventBus.grantPutEventsTo(this.function);
    acknowledgeWildcardResources(this.function.role as iam.Role, (resource, granted) =>
      granted.every((action) => action.startsWith('s3:')) && resource.endsWith('/*')
        ? 'Definitions are objects of the definitions bucket whose names analysts choose: the upload under incoming/ and the catalog file it replaces.'
        : // X-Ray, as for every function of the refresh.
          WILDCARD_REASONS(resource, granted),
    );
    acknowledgePinnedRuntime(this.function);

    this.rule = new events.Rule(this, 'Rule', {
      description: `cohort-refresh: a definition uploaded under ${INCOMING_PREFIX} of the definitions bucket`,
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: { bucket: { name: [cr.definitionsBucket.bucketName] }, object: { key: [{ prefix: INCOMING_PREFIX }] } },
      },
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 4, maxEventAge: Duration.hours(6) })],
    });

    this.errorsAlarm = anyOccurrenceAlarm(
      this,
      'ErrorsAlarm',
      this.function.metricErrors(FIVE_MINUTE_SUM),
      { topic: cr.alertsTopic, key: cr.alertsKey },
      "An uploaded cohort definition could not be handled (neither accepted nor rejected). See the upload function's log group.",
    );
  }

  /** Lets the grantee (analysts, a CI role) upload definitions under `incoming/`, and nothing else. */
  public grantUpload(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:PutObject'],
      resourceArns: [this.definitionsBucket.arnForObjects(`${INCOMING_PREFIX}*`)],
    });
    const key = this.definitionsBucket.encryptionKey;
    return key ? grant.combine(key.grant(grantee, 'kms:GenerateDataKey')) : grant;
  }
}
