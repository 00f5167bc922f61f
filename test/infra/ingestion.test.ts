import { App, Duration, Size, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { CohortRefresh, type CohortRefreshProps, IngestionLeftOutError } from '../../infra/cohort-refresh.ts';
import { UTC_DAY_QUERY } from '../../infra/ingestion/utc-day-query.ts';
import { INGEST_ERRORS_PREFIX } from '../../shared/bucket-layout.ts';
import { arnOf, resourceOf, templateOf } from './support.ts';

/** A user's stack embedding the product as `Cohorts`. */
function givenEmbedded(props: CohortRefreshProps | ((stack: Stack) => CohortRefreshProps) = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'PlatformStack');
  const cohorts = new CohortRefresh(stack, 'Cohorts', typeof props === 'function' ? props(stack) : props);
  return { stack, cohorts };
}

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

/** The statements of the policies attached to a role. */
function statementsOf(template: Template, role: iam.IRole): Statement[] {
  const roleRef = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
  const ref = Stack.of(role).getLogicalId((role as iam.Role).node.defaultChild as never);
  return Object.values(roleRef)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: ref }]))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

const objectsUnder = (bucketArn: unknown, prefix: string) => ({ 'Fn::Join': ['', [bucketArn, `/${prefix}*`]] });

describe('the ingestion delivery stream', () => {
  it('is left out by default: no stream, and grantPutEvents says so', () => {
    const { stack, cohorts } = givenEmbedded();

    templateOf(stack).resourceCountIs('AWS::KinesisFirehose::DeliveryStream', 0);
    expect(cohorts.ingestion).toBeUndefined();
    const producer = new iam.Role(stack, 'Producer', { assumedBy: new iam.AccountRootPrincipal() });
    expect(() => cohorts.grantPutEvents(producer)).toThrow(IngestionLeftOutError);
  });

  it('writes JSONL gzip into events/dt=<UTC day of ts>/ of the lake, and what it cannot place under events-errors/, outside events/', () => {
    // GIVEN / WHEN
    const { stack, cohorts } = givenEmbedded({ eventLakePrefix: 'lake/', ingestion: true });
    // THEN
    const template = templateOf(stack);
    template.resourceCountIs('AWS::KinesisFirehose::DeliveryStream', 1);
    const stream = resourceOf(template, cohorts.ingestion?.deliveryStream as never).Properties;
    expect(stream.DeliveryStreamType).toBe('DirectPut');
    expect(stream.DeliveryStreamEncryptionConfigurationInput).toEqual({ KeyType: 'AWS_OWNED_CMK' });
    const s3Config = stream.ExtendedS3DestinationConfiguration as Record<string, unknown>;
    expect(s3Config).toMatchObject({
      BucketARN: arnOf(cohorts.foundation.eventLakeBucket),
      Prefix: 'lake/events/dt=!{partitionKeyFromQuery:dt}/',
      ErrorOutputPrefix: `lake/${INGEST_ERRORS_PREFIX}!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/`,
      CompressionFormat: 'GZIP',
      FileExtension: '.jsonl.gz',
      BufferingHints: { IntervalInSeconds: 60, SizeInMBs: 64 },
      DynamicPartitioningConfiguration: { Enabled: true },
      RoleARN: arnOf(cohorts.ingestion?.role as iam.Role),
    });
    // The error prefix is no folder of events/: the lake reader never lists it.
    expect(String(s3Config.ErrorOutputPrefix).startsWith('lake/events/')).toBe(false);
    expect(s3Config.ProcessingConfiguration).toEqual({
      Enabled: true,
      Processors: [
        {
          Type: 'MetadataExtraction',
          Parameters: [
            { ParameterName: 'MetadataExtractionQuery', ParameterValue: `{"dt":${UTC_DAY_QUERY}}` },
            { ParameterName: 'JsonParsingEngine', ParameterValue: 'JQ-1.6' },
          ],
        },
        { Type: 'AppendDelimiterToRecord', Parameters: [] },
      ],
    });
  });

  it('lets its role write only the two prefixes of the lake (with the lake key), list the bucket and log; Firehose of this account only assumes it', () => {
    const { stack, cohorts } = givenEmbedded({ ingestion: true });
    const template = templateOf(stack);
    const role = cohorts.ingestion?.role as iam.Role;
    const lake = arnOf(cohorts.foundation.eventLakeBucket);

    expect(resourceOf(template, role).Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'firehose.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ],
    });
    const statements = statementsOf(template, role);
    expect(statements).toEqual(
      expect.arrayContaining([
        { Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], Resource: lake },
        { Effect: 'Allow', Action: ['s3:PutObject', 's3:AbortMultipartUpload'], Resource: objectsUnder(lake, 'events/') },
        { Effect: 'Allow', Action: ['s3:PutObject', 's3:AbortMultipartUpload'], Resource: objectsUnder(lake, INGEST_ERRORS_PREFIX) },
        { Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: arnOf(cohorts.foundation.encryptionKey) },
        { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: arnOf(cohorts.ingestion?.logGroup as never) },
      ]),
    );
    expect(statements).toHaveLength(5);
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.filter((a) => /^s3:(GetObject|Delete)/.test(a))).toEqual([]);
  });

  it('grants a producer PutRecord and PutRecordBatch on this stream and nothing else', () => {
    const { stack, cohorts } = givenEmbedded({ ingestion: true });
    const producer = new iam.Role(stack, 'Producer', { assumedBy: new iam.AccountRootPrincipal() });

    cohorts.grantPutEvents(producer);

    expect(statementsOf(templateOf(stack), producer)).toEqual([
      {
        Effect: 'Allow',
        Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
        Resource: arnOf(cohorts.ingestion?.deliveryStream as never),
      },
    ]);
  });

  it('forwards the detail of a bus’s matching events, and takes its buffering settings', () => {
    const { stack, cohorts } = givenEmbedded((scope) => ({
      ingestion: {
        bufferingInterval: Duration.seconds(120),
        bufferingSize: Size.mebibytes(128),
        deliveryStreamName: 'cohort-events',
        forward: { eventBus: events.EventBus.fromEventBusName(scope, 'Bus', 'product'), eventPattern: { source: ['product.app'] } },
      },
    }));
    const template = templateOf(stack);

    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamName: 'cohort-events',
      ExtendedS3DestinationConfiguration: Match.objectLike({ BufferingHints: { IntervalInSeconds: 120, SizeInMBs: 128 } }),
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: 'product',
      EventPattern: { source: ['product.app'] },
      Targets: [Match.objectLike({ Arn: arnOf(cohorts.ingestion?.deliveryStream as never), InputPath: '$.detail' })],
    });
  });

  it('refuses buffering Firehose cannot do with dynamic partitioning', () => {
    expect(() => givenEmbedded({ ingestion: { bufferingInterval: Duration.seconds(30) } })).toThrow(/at least 60 seconds/);
    expect(() => givenEmbedded({ ingestion: { bufferingSize: Size.mebibytes(8) } })).toThrow(/at least 64 MiBs/);
  });

  it('passes cdk-nag with the defaults, with forwarding, and over an existing lake bucket with its own key and a prefix', () => {
    const withForward = givenEmbedded((scope) => ({
      ingestion: { forward: { eventBus: events.EventBus.fromEventBusName(scope, 'Bus', 'product'), eventPattern: { source: ['x'] } } },
    }));
    const existing = givenEmbedded((scope) => ({
      eventLakeBucket: s3.Bucket.fromBucketAttributes(scope, 'Lake', {
        bucketName: 'company-event-lake',
        encryptionKey: kms.Key.fromKeyArn(scope, 'LakeKey', 'arn:aws:kms:eu-central-1:123456789012:key/abcd'),
      }),
      eventLakePrefix: 'raw/',
      ingestion: true,
    }));

    for (const { stack } of [givenEmbedded({ ingestion: true }), withForward, existing]) {
      expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
    }
    expect(statementsOf(templateOf(existing.stack), existing.cohorts.ingestion?.role as iam.Role)).toContainEqual({
      Effect: 'Allow',
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: 'arn:aws:kms:eu-central-1:123456789012:key/abcd',
    });
  });
});
