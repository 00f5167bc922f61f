import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { describe, expect, it } from 'vitest';
import { arnOf, givenFoundation, refTo, resourceOf, templateOf } from './support.ts';

function dataBuckets(foundation: ReturnType<typeof givenFoundation>['foundation']) {
  return {
    lake: foundation.eventLakeBucket,
    definitions: foundation.definitionsBucket,
    snapshots: foundation.snapshotsBucket,
    exports: foundation.exportsBucket,
    results: foundation.athenaResultsBucket,
  };
}

describe('CohortFoundation buckets', () => {
  it('creates the lake, definitions, snapshots, exports, Athena results and access logs buckets', () => {
    // GIVEN / WHEN
    const { stack } = givenFoundation();
    // THEN
    templateOf(stack).resourceCountIs('AWS::S3::Bucket', 6);
  });

  it('blocks all public access on every bucket', () => {
    const { stack } = givenFoundation();

    const buckets = templateOf(stack).findResources('AWS::S3::Bucket');

    expect(Object.keys(buckets)).toHaveLength(6);
    for (const bucket of Object.values(buckets)) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    }
  });

  it('encrypts every data bucket with the customer-managed key, using bucket keys', () => {
    const { stack, foundation } = givenFoundation();
    const template = templateOf(stack);

    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    for (const bucket of Object.values(dataBuckets(foundation))) {
      expect(resourceOf(template, bucket).Properties.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: arnOf(foundation.encryptionKey) },
          },
        ],
      });
    }
  });

  it('encrypts the access logs bucket with S3-managed keys, which log delivery requires', () => {
    const { stack, foundation } = givenFoundation();

    expect(resourceOf(templateOf(stack), foundation.accessLogsBucket).Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
  });

  it('denies every request without TLS 1.2 in each bucket policy', () => {
    const { stack, foundation } = givenFoundation();
    const template = templateOf(stack);

    template.resourceCountIs('AWS::S3::BucketPolicy', 6);
    for (const bucket of [...Object.values(dataBuckets(foundation)), foundation.accessLogsBucket]) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: refTo(bucket),
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Principal: { AWS: '*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
            }),
          ]),
        },
      });
    }
  });

  it('versions the lake, definitions, snapshots and exports but not the Athena results', () => {
    const { stack, foundation } = givenFoundation();
    const template = templateOf(stack);

    const { results, ...versioned } = dataBuckets(foundation);
    for (const bucket of Object.values(versioned)) {
      expect(resourceOf(template, bucket).Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    }
    expect(resourceOf(template, results).Properties.VersioningConfiguration).toBeUndefined();
  });

  it('expires noncurrent versions after 90 days by default', () => {
    const { stack, foundation } = givenFoundation();
    const template = templateOf(stack);

    const { results, ...versioned } = dataBuckets(foundation);
    for (const bucket of Object.values(versioned)) {
      expect(resourceOf(template, bucket).Properties.LifecycleConfiguration).toEqual({
        Rules: expect.arrayContaining([
          { Id: 'ExpireNoncurrentVersions', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 90 } },
        ]),
      });
    }
    expect(JSON.stringify(resourceOf(template, results).Properties)).not.toContain('NoncurrentVersionExpiration');
  });

  it('expires an uploaded list a day after the upload (personal data erasure does not reach incoming/), and nothing else of incoming/', () => {
    const { stack, foundation } = givenFoundation();
    const template = templateOf(stack);

    const { definitions, ...others } = dataBuckets(foundation);
    const rules = (resourceOf(template, definitions).Properties.LifecycleConfiguration as { Rules: unknown[] }).Rules;
    expect(rules).toContainEqual({ Id: 'ExpireUploadedLists', Status: 'Enabled', Prefix: 'incoming/lists/', ExpirationInDays: 1 });
    expect(JSON.stringify(rules)).not.toContain('"Prefix":"incoming/"');
    for (const bucket of Object.values(others))
      expect(JSON.stringify(resourceOf(template, bucket).Properties)).not.toContain('ExpireUploadedLists');
  });

  it('expires noncurrent versions after the configured retention', () => {
    const { stack } = givenFoundation({ noncurrentVersionRetention: Duration.days(30) });

    templateOf(stack).hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } })]),
      },
    });
  });

  it('expires Athena query results after 7 days by default and after the configured retention otherwise', () => {
    const byDefault = givenFoundation();
    const configured = givenFoundation({ athenaResultsRetention: Duration.days(2) });

    templateOf(byDefault.stack).hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([{ Id: 'ExpireQueryResults', Status: 'Enabled', ExpirationInDays: 7 }]) },
    });
    templateOf(configured.stack).hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([{ Id: 'ExpireQueryResults', Status: 'Enabled', ExpirationInDays: 2 }]) },
    });
  });

  it('aborts incomplete multipart uploads in every bucket after one day', () => {
    const { stack } = givenFoundation();

    for (const bucket of Object.values(templateOf(stack).findResources('AWS::S3::Bucket'))) {
      expect(bucket.Properties.LifecycleConfiguration.Rules).toContainEqual({
        Id: 'AbortIncompleteMultipartUploads',
        Status: 'Enabled',
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      });
    }
  });

  it('sends the server access logs of every data bucket to the logs bucket, allowed by bucket policy', () => {
    const { stack, foundation } = givenFoundation();
    const template = templateOf(stack);

    for (const bucket of Object.values(dataBuckets(foundation))) {
      expect(resourceOf(template, bucket).Properties.LoggingConfiguration).toEqual({
        DestinationBucketName: refTo(foundation.accessLogsBucket),
        LogFilePrefix: expect.stringMatching(/Bucket\/$/),
      });
    }
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: refTo(foundation.accessLogsBucket),
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject' }),
        ]),
      },
    });
  });

  it('delivers access logs through a bucket policy, with ACLs disabled, even when the app asks for ACL delivery', () => {
    // GIVEN an app whose feature flag still selects ACL-based log delivery
    const { stack, foundation } = givenFoundation({}, { [cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY]: false });
    // WHEN
    const template = templateOf(stack);
    // THEN
    template.allResources('AWS::S3::Bucket', {
      Properties: Match.objectLike({ OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: refTo(foundation.accessLogsBucket),
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'logging.s3.amazonaws.com' } })]),
      },
    });
  });

  it('retains buckets and keys by default and destroys them when asked', () => {
    const retained = givenFoundation();
    const destroyed = givenFoundation({ removalPolicy: RemovalPolicy.DESTROY });

    templateOf(retained.stack).allResources('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
    templateOf(retained.stack).allResources('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
    templateOf(destroyed.stack).allResources('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    templateOf(destroyed.stack).allResources('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
  });

  it('uses an existing lake bucket instead of creating one', () => {
    // GIVEN
    const { stack, foundation } = givenFoundation((scope) => ({
      eventLakeBucket: s3.Bucket.fromBucketName(scope, 'ExistingLake', 'company-event-lake'),
    }));
    // WHEN
    const template = templateOf(stack);
    // THEN
    expect(foundation.eventLakeBucket.bucketName).toBe('company-event-lake');
    template.resourceCountIs('AWS::S3::Bucket', 5);
    expect(Object.keys(template.findResources('AWS::S3::Bucket'))).not.toContainEqual(expect.stringContaining('EventLakeBucket'));
    // The lake tables read the Plan step's manifests, never the lake's folders.
    expect(JSON.stringify(template.findResources('AWS::Glue::Table'))).not.toContain('company-event-lake');
  });
});
