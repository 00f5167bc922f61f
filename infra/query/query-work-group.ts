import { Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { RESULTS_PREFIX } from '../../shared/bucket-layout.ts';

/** Options for {@link QueryWorkGroup}. */
export interface QueryWorkGroupProps {
  /** Name of the workgroup. */
  readonly workGroupName: string;
  /** Bucket that receives query results, under `results/`. */
  readonly resultsBucket: s3.IBucket;
  /** Key that encrypts query results (SSE-KMS). */
  readonly resultsKey: kms.IKey;
  /** Largest number of bytes one query may scan before Athena cancels it. */
  readonly bytesScannedCutoffPerQuery: number;
}

/**
 * The Athena workgroup every refresh query runs in. Its settings are enforced, so a
 * client cannot send results elsewhere, unencrypted, or lift the per-query cutoff.
 */
export class QueryWorkGroup extends Construct {
  /** The workgroup resource. */
  public readonly workGroup: athena.CfnWorkGroup;
  /** Name of the workgroup, for `StartQueryExecution`. */
  public readonly workGroupName: string;
  /** `s3://` location query results are written to. */
  public readonly outputLocation: string;

  constructor(scope: Construct, id: string, props: QueryWorkGroupProps) {
    super(scope, id);
    this.workGroupName = props.workGroupName;
    this.outputLocation = `s3://${props.resultsBucket.bucketName}/${RESULTS_PREFIX}`;
    this.workGroup = new athena.CfnWorkGroup(this, 'Resource', {
      name: props.workGroupName,
      description: 'cohort-refresh: cohort evaluation and snapshot queries',
      state: 'ENABLED',
      // The workgroup holds no data (results live in the bucket), so removing it from the
      // stack deletes it even when it has saved queries; a retained one would block redeploys.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: this.outputLocation,
          expectedBucketOwner: Stack.of(this).account,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.resultsKey.keyArn },
        },
      },
    });
  }

  /** ARN of the workgroup. */
  public get workGroupArn(): string {
    return Stack.of(this).formatArn({ service: 'athena', resource: 'workgroup', resourceName: this.workGroupName });
  }
}
