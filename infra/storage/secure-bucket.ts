import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

/** Options for {@link SecureBucket}: only what differs between the project's buckets. */
export interface SecureBucketProps {
  /**
   * Customer-managed key for SSE-KMS default encryption.
   *
   * @default - SSE-S3 (required for the server access logs bucket, see {@link SecureBucket})
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Bucket that receives this bucket's server access logs.
   *
   * @default - no server access logging (only for the access logs bucket itself)
   */
  readonly accessLogsBucket?: s3.IBucket;
  /**
   * Keep every version of every object.
   *
   * @default false
   */
  readonly versioned?: boolean;
  /**
   * Lifecycle rules besides the abort of incomplete multipart uploads every bucket gets.
   *
   * @default - none
   */
  readonly lifecycleRules?: s3.LifecycleRule[];
  /** What happens to the bucket when it leaves the stack. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * An S3 bucket with the defaults every bucket of this project shares: default
 * encryption, all public access blocked, TLS 1.2+ enforced by bucket policy, ACLs
 * disabled, incomplete multipart uploads aborted after a day, and server access
 * logging when a logs bucket is given.
 */
export class SecureBucket extends s3.Bucket {
  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id, {
      ...(props.encryptionKey
        ? {
            encryption: s3.BucketEncryption.KMS,
            encryptionKey: props.encryptionKey,
            // One data key per bucket instead of one KMS call per object: Athena reads many objects.
            bucketKeyEnabled: true,
          }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: props.versioned ?? false,
      removalPolicy: props.removalPolicy,
      ...(props.accessLogsBucket ? { serverAccessLogsBucket: props.accessLogsBucket, serverAccessLogsPrefix: `${id}/` } : {}),
      lifecycleRules: [
        { id: 'AbortIncompleteMultipartUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        ...(props.lifecycleRules ?? []),
      ],
    });
  }
}
