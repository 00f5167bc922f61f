import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { SERVICE_NAME } from '../../shared/cloud/environment.ts';
import { EVALUATION_TABLE_PREFIX } from '../../shared/cloud/athena-statement.ts';
import { AlertsTopic } from '../alerts/alerts-topic.ts';
import { type SlackChannel, SlackAlerts } from '../alerts/slack-alerts.ts';
import { LakeCatalog } from '../catalog/lake-catalog.ts';
import { QueryWorkGroup } from '../query/query-work-group.ts';
import { SecureBucket } from '../storage/secure-bucket.ts';
import {
  validateAlertEmails,
  validateBytesScannedCutoff,
  validateDatabaseName,
  validateLakePrefix,
  validateRemovalPolicy,
  validateSlackChannel,
  validateWholeDays,
  validateWorkGroupName,
} from '../common/validate-props.ts';
import {
  CATALOG_PREFIX,
  DELETION_REQUESTS_PREFIX,
  DOCTOR_PREFIX,
  EVALUATION_FILES_PREFIX,
  INCOMING_PREFIX,
  LAKE_FILES_PREFIX,
  PRIVACY_PREFIX,
  RESULTS_PREFIX,
  SNAPSHOTS_PREFIX,
  SOURCE_CHECK_PARTS_PREFIX,
  IDENTITY_KEYS_PREFIX,
  TILE_LEASE_KEY,
  TILES_PREFIX,
} from '../../shared/bucket-layout.ts';
import { LISTS_FOLDER } from '../../shared/language/uploaded-lists.ts';

/** Where analysts upload lists in the definitions bucket (`incoming/lists/<name>.csv`). */
const UPLOADED_LISTS_PREFIX = `${INCOMING_PREFIX}${LISTS_FOLDER}/`;
/** How long an uploaded list's copy under `incoming/lists/` is kept once handled. */
const UPLOADED_LISTS_RETENTION = Duration.days(1);

/** The privacy data of the snapshots bucket: erasure records, suppression list, deletion requests. */
const PRIVACY_KEYS = `${PRIVACY_PREFIX}*`;

/** What a grantee may do with the per-run evaluation tables (see shared/cloud/athena-statement.ts). */
export type EvaluationTableAccess = 'create' | 'read' | 'drop';

const EVALUATION_GLUE_ACTIONS: Record<EvaluationTableAccess, string[]> = {
  create: ['glue:GetTable', 'glue:CreateTable'],
  read: ['glue:GetTable'],
  drop: ['glue:GetTable', 'glue:DeleteTable'],
};

/** Properties of {@link CohortFoundation}. */
export interface CohortFoundationProps {
  /**
   * An existing bucket that holds the event lake (SPEC 1). Import it with
   * `Bucket.fromBucketAttributes` and pass its `encryptionKey` if it uses SSE-KMS, so
   * that query grants include decrypting with that key.
   *
   * @default - a new versioned, KMS-encrypted bucket is created
   */
  readonly eventLakeBucket?: s3.IBucket;

  /**
   * Key prefix of the lake inside its bucket: `''` or ending in `/`, e.g. `lake/`.
   * Events are read from `<prefix>events/dt=YYYY-MM-DD/`, identities from `<prefix>identities/`.
   *
   * @default '' (the bucket root)
   */
  readonly eventLakePrefix?: string;

  /**
   * E-mail addresses subscribed to the alerts topic. Each address receives a
   * confirmation mail and gets alerts only after confirming it.
   *
   * @default - no subscriptions; subscribe later to `alertsTopic`
   */
  readonly alertEmails?: string[];

  /**
   * A Slack channel that gets every alert (and the execution alarms) through AWS Chatbot, now
   * Amazon Q Developer in chat applications. Authorize the Slack workspace in the Chatbot console
   * once before deploying. The alerts then also carry Chatbot's custom-notification format (Chatbot
   * posts nothing else), which HTTPS subscribers receive instead of the text; e-mail keeps the text.
   * The channel can run no AWS commands (no role permissions, `AWSDenyAll` guardrail).
   *
   * @default - no Chatbot channel
   */
  readonly slackChannel?: SlackChannel;

  /**
   * A Secrets Manager secret holding a Slack incoming-webhook URL (the plain URL, or JSON
   * `{"url": "..."}`). A small Lambda function subscribed to the alerts topic posts each alert and
   * alarm to it as text; it may only read this secret. A secret encrypted with a customer managed
   * key needs that key: import it with `Secret.fromSecretAttributes({ secretCompleteArn, encryptionKey })`.
   *
   * @default - no webhook subscriber
   */
  readonly slackWebhookSecret?: secretsmanager.ISecret;

  /**
   * How long overwritten or deleted object versions are kept in the versioned buckets
   * (lake, definitions, snapshots, exports) before S3 expires them. Whole days. Snapshot
   * versions themselves are current objects and are never expired by this rule.
   *
   * @default Duration.days(90)
   */
  readonly noncurrentVersionRetention?: Duration;

  /**
   * How long Athena query results are kept. Whole days.
   *
   * @default Duration.days(7)
   */
  readonly athenaResultsRetention?: Duration;

  /**
   * How long S3 server access logs are kept. Whole days.
   *
   * @default Duration.days(365)
   */
  readonly accessLogsRetention?: Duration;

  /**
   * Largest number of bytes one Athena query may scan before the workgroup cancels it.
   * At least 10,000,000 (the Athena minimum).
   *
   * @default 10 GiB (10 * 1024^3 bytes)
   */
  readonly athenaBytesScannedCutoffPerQuery?: number;

  /**
   * Name of the Glue database; unique per account and region.
   *
   * @default 'cohort_refresh'
   */
  readonly databaseName?: string;

  /**
   * Name of the Athena workgroup; unique per account and region.
   *
   * @default 'cohort-refresh'
   */
  readonly workGroupName?: string;

  /**
   * What happens to the buckets and KMS keys when they leave the stack. DESTROY
   * fails on buckets that still hold objects (no auto-delete Lambda is deployed).
   * The Glue catalog, workgroup and topic hold no data and are always deleted.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

const DEFAULT_BYTES_SCANNED_CUTOFF = 10 * 1024 ** 3;

/**
 * The storage and catalog foundation of cohort refresh: the event lake, definitions,
 * snapshots, exports and Athena results buckets, the Glue catalog over lake and
 * snapshots, the Athena workgroup, and the alerts topic, with least-privilege grants.
 * `CohortRefresh` (infra/cohort-refresh.ts) builds the product on it; embed that rather than this.
 */
/** The Glue reads a query over the tile tables needs. */
const TILE_READ_ACTIONS = ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartition', 'glue:GetPartitions'];

export class CohortFoundation extends Construct {
  /**
   * Customer-managed key of every data bucket and of Athena results. Chosen over
   * SSE-S3 because snapshots and exports hold person ids: reading them needs this key
   * as well as the bucket, every decrypt is logged in CloudTrail, and the key policy
   * can be tightened independently of bucket policies. Bucket keys keep the per-request
   * KMS cost negligible.
   */
  public readonly encryptionKey: kms.Key;
  /** Receives the server access logs of every bucket the construct creates (SSE-S3). */
  public readonly accessLogsBucket: s3.Bucket;
  /** The event lake: the bucket passed in, or one created here. */
  public readonly eventLakeBucket: s3.IBucket;
  /** Key prefix of the lake inside {@link eventLakeBucket}: `''` or ending in `/`. */
  public readonly eventLakePrefix: string;
  /** Cohort definitions (YAML) uploaded by analysts. */
  public readonly definitionsBucket: s3.Bucket;
  /** Versioned snapshots under `snapshots/cohort=<id>/version=<N>/` (SPEC 5). */
  public readonly snapshotsBucket: s3.Bucket;
  /** Exports for downstream systems: full lists and entered/exited deltas. */
  public readonly exportsBucket: s3.Bucket;
  /**
   * Athena query results under `results/`, and under `lake-files/` the manifests the Plan step
   * writes for the lake tables; everything expires after `athenaResultsRetention`.
   */
  public readonly athenaResultsBucket: s3.Bucket;
  /** The Glue database and tables. */
  public readonly catalog: LakeCatalog;
  /** The Athena workgroup with enforced settings (its name and ARN: `workGroupName`, `workGroupArn`). */
  public readonly queryWorkGroup: QueryWorkGroup;
  /**
   * The HMAC key of erasure records (SPEC 5's audit record keeps keyed hashes of the id): a
   * generated Secrets Manager secret, encrypted with {@link encryptionKey}, readable only by the
   * functions granted {@link grantReadPrivacyKey}, so whoever reads `privacy/` cannot hash
   * candidate ids to learn who was forgotten. One key a line: the first makes new records.
   */
  public readonly privacyKey: secretsmanager.Secret;
  /** The alerts topic (KMS-encrypted, TLS only). */
  public readonly alertsTopic: sns.Topic;
  /** The key of the alerts topic. */
  public readonly alertsKey: kms.Key;
  /** The Slack delivery of the alerts, when `slackChannel` or `slackWebhookSecret` was given. */
  public readonly slackAlerts?: SlackAlerts;
  /**
   * How alerts are published: `chatbot` adds the Chatbot custom-notification variant, because a
   * Chatbot channel is subscribed; `text` otherwise. The refresh passes it to its functions.
   */
  public readonly alertsFormat: 'text' | 'chatbot';

  constructor(scope: Construct, id: string, props: CohortFoundationProps = {}) {
    super(scope, id);
    // Log delivery through a bucket policy, not ACLs (ACLs are disabled on every bucket),
    // whatever feature flags the enclosing app sets. Must precede the first child.
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);

    const eventLakePrefix = props.eventLakePrefix ?? '';
    const alertEmails = props.alertEmails ?? [];
    const noncurrentVersionRetention = props.noncurrentVersionRetention ?? Duration.days(90);
    const athenaResultsRetention = props.athenaResultsRetention ?? Duration.days(7);
    const accessLogsRetention = props.accessLogsRetention ?? Duration.days(365);
    const bytesScannedCutoff = props.athenaBytesScannedCutoffPerQuery ?? DEFAULT_BYTES_SCANNED_CUTOFF;
    const databaseName = props.databaseName ?? 'cohort_refresh';
    const workGroupName = props.workGroupName ?? SERVICE_NAME;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    validateLakePrefix(eventLakePrefix);
    validateAlertEmails(alertEmails);
    validateWholeDays('noncurrentVersionRetention', noncurrentVersionRetention);
    validateWholeDays('athenaResultsRetention', athenaResultsRetention);
    validateWholeDays('accessLogsRetention', accessLogsRetention);
    validateBytesScannedCutoff(bytesScannedCutoff);
    validateDatabaseName(databaseName);
    validateWorkGroupName(workGroupName);
    validateRemovalPolicy(removalPolicy);
    if (props.slackChannel) validateSlackChannel(props.slackChannel);

    this.encryptionKey = new kms.Key(this, 'DataKey', {
      description: 'cohort-refresh data: lake, definitions, snapshots, exports, Athena results',
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      removalPolicy,
    });

    this.accessLogsBucket = new SecureBucket(this, 'AccessLogsBucket', {
      // S3 log delivery writes only to SSE-S3 buckets, never SSE-KMS.
      removalPolicy,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: accessLogsRetention }],
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the server access logs target; logging it to itself would loop.',
    });

    const versionedBucket = (bucketId: string, more: s3.LifecycleRule[] = []): SecureBucket =>
      new SecureBucket(this, bucketId, {
        encryptionKey: this.encryptionKey,
        accessLogsBucket: this.accessLogsBucket,
        versioned: true,
        removalPolicy,
        lifecycleRules: [{ id: 'ExpireNoncurrentVersions', noncurrentVersionExpiration: noncurrentVersionRetention }, ...more],
      });

    this.eventLakePrefix = eventLakePrefix;
    this.eventLakeBucket = props.eventLakeBucket ?? versionedBucket('EventLakeBucket');
    // An uploaded list is personal data: its copy under incoming/lists/ is gone a day after the
    // upload (handled within minutes, retried for 6 hours), as erasure only rewrites lists/.
    this.definitionsBucket = versionedBucket('DefinitionsBucket', [
      { id: 'ExpireUploadedLists', prefix: UPLOADED_LISTS_PREFIX, expiration: UPLOADED_LISTS_RETENTION },
    ]);
    this.snapshotsBucket = versionedBucket('SnapshotsBucket');
    this.exportsBucket = versionedBucket('ExportsBucket');
    this.athenaResultsBucket = new SecureBucket(this, 'AthenaResultsBucket', {
      encryptionKey: this.encryptionKey,
      accessLogsBucket: this.accessLogsBucket,
      removalPolicy,
      lifecycleRules: [{ id: 'ExpireQueryResults', expiration: athenaResultsRetention }],
    });

    this.catalog = new LakeCatalog(this, 'Catalog', {
      databaseName,
      eventLakeBucket: this.eventLakeBucket,
      eventLakePrefix,
      filesBucket: this.athenaResultsBucket,
      filesPrefix: LAKE_FILES_PREFIX,
      snapshotsBucket: this.snapshotsBucket,
      definitionsBucket: this.definitionsBucket,
    });
    this.queryWorkGroup = new QueryWorkGroup(this, 'WorkGroup', {
      workGroupName,
      resultsBucket: this.athenaResultsBucket,
      resultsKey: this.encryptionKey,
      bytesScannedCutoffPerQuery: bytesScannedCutoff,
    });

    this.privacyKey = new secretsmanager.Secret(this, 'PrivacyKey', {
      description: 'cohort-refresh: HMAC key of erasure records (one key a line; the first makes new records)',
      encryptionKey: this.encryptionKey,
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy,
    });
    Validations.of(this.privacyKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'An HMAC key that names erasure records must not rotate: a rotated key no longer recognises the forgotten people of older records.',
    });

    const alerts = new AlertsTopic(this, 'Alerts', { emails: alertEmails, removalPolicy });
    this.alertsTopic = alerts.topic;
    this.alertsKey = alerts.key;
    this.alertsFormat = props.slackChannel ? 'chatbot' : 'text';
    if (props.slackChannel || props.slackWebhookSecret) {
      this.slackAlerts = new SlackAlerts(this, 'Slack', {
        topic: this.alertsTopic,
        topicKey: this.alertsKey,
        ...(props.slackChannel ? { channel: props.slackChannel } : {}),
        ...(props.slackWebhookSecret ? { webhookSecret: props.slackWebhookSecret } : {}),
      });
    }
  }

  /** Lets the grantee list the definitions bucket and read every definition. */
  public grantReadDefinitions(grantee: iam.IGrantable): iam.Grant {
    return this.grantReadObjects(grantee, this.definitionsBucket, ['*']);
  }

  /** Lets the grantee read the uploaded lists (`lists/` of the definitions bucket): a query whose rules read lists, the privacy check. */
  public grantReadLists(grantee: iam.IGrantable): iam.Grant {
    return this.grantReadObjects(grantee, this.definitionsBucket, [`${LISTS_FOLDER}/*`]);
  }

  /** Lets the grantee rewrite the uploaded lists (erasure removes a forgotten person's lines; never a delete). */
  public grantWriteLists(grantee: iam.IGrantable): iam.Grant {
    return this.grantWriteObjects(grantee, this.definitionsBucket, `${LISTS_FOLDER}/*`);
  }

  /** Lets the grantee upload definitions (create or overwrite; never delete). */
  public grantWriteDefinitions(grantee: iam.IGrantable): iam.Grant {
    return this.grantWriteObjects(grantee, this.definitionsBucket, '*');
  }

  /**
   * Lets the grantee record the catalog of accepted definitions and its audit trail: new objects
   * under the definitions bucket's `catalog/` (the guardrails of the Plan step; never a delete).
   */
  public grantWriteDefinitionCatalog(grantee: iam.IGrantable): iam.Grant {
    return this.grantWriteObjects(grantee, this.definitionsBucket, `${CATALOG_PREFIX}*`);
  }

  /** Lets the grantee read every snapshot version, manifest and `current.json`. */
  public grantReadSnapshots(grantee: iam.IGrantable): iam.Grant {
    return this.grantReadObjects(grantee, this.snapshotsBucket, [`${SNAPSHOTS_PREFIX}*`]);
  }

  /**
   * Lets the grantee read and write snapshots: new versions and `current.json`.
   * No delete: a version is never rewritten or deleted by a refresh (SPEC 5).
   */
  public grantWriteSnapshots(grantee: iam.IGrantable): iam.Grant {
    return this.grantReadSnapshots(grantee).combine(this.grantWriteObjects(grantee, this.snapshotsBucket, `${SNAPSHOTS_PREFIX}*`));
  }

  /**
   * Lets the grantee read the privacy data of the snapshots bucket (`privacy/*`): the erasure
   * records, the suppression list and the deletion requests. Not the key of the records
   * ({@link grantReadPrivacyKey}).
   */
  public grantReadPrivacy(grantee: iam.IGrantable): iam.Grant {
    return this.grantReadObjects(grantee, this.snapshotsBucket, [PRIVACY_KEYS]);
  }

  /**
   * Lets the grantee read and write the privacy data (`privacy/*`): write erasure records and
   * replace processed deletion requests. Never a delete.
   */
  public grantWritePrivacy(grantee: iam.IGrantable): iam.Grant {
    return this.grantReadPrivacy(grantee).combine(this.grantWriteObjects(grantee, this.snapshotsBucket, PRIVACY_KEYS));
  }

  /**
   * Lets the grantee read the key of erasure records (the {@link privacyKey} secret): only what
   * erases or screens people (the Plan, Snapshot, Deliver and Finish functions).
   */
  public grantReadPrivacyKey(grantee: iam.IGrantable): iam.Grant {
    return this.privacyKey.grantRead(grantee);
  }

  /**
   * Lets the grantee drop deletion requests (`privacy/deletion-requests/*`, carried out by the
   * next refresh) and nothing else: no read of any id, list or record.
   */
  public grantRequestDeletion(grantee: iam.IGrantable): iam.Grant {
    return this.grantWriteObjects(grantee, this.snapshotsBucket, `${DELETION_REQUESTS_PREFIX}*`);
  }

  /** Lets the grantee read every export. */
  public grantReadExports(grantee: iam.IGrantable): iam.Grant {
    return this.grantReadObjects(grantee, this.exportsBucket, ['*']);
  }

  /** Lets the grantee write exports (create or overwrite; never delete). */
  public grantWriteExports(grantee: iam.IGrantable): iam.Grant {
    return this.grantWriteObjects(grantee, this.exportsBucket, '*');
  }

  /**
   * Lets the grantee run Athena queries over the catalog: start, follow and stop
   * queries in this workgroup only; read this database's tables only; read the lake's
   * `events/` and `identities/`, the lake tables' manifests (`lake-files/`) and the snapshots;
   * write and read query results.
   */
  public grantQueryLake(grantee: iam.IGrantable): iam.Grant {
    const athenaGrant = iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'athena:StartQueryExecution',
        'athena:GetQueryExecution',
        'athena:GetQueryResults',
        'athena:StopQueryExecution',
        'athena:GetWorkGroup',
      ],
      resourceArns: [this.queryWorkGroup.workGroupArn],
    });
    const glueGrant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartition', 'glue:GetPartitions'],
      resourceArns: [this.catalog.catalogArn, this.catalog.databaseArn, ...this.catalog.tableArns],
    });
    const prefix = this.eventLakePrefix;
    const lakeGrant = this.grantReadObjects(grantee, this.eventLakeBucket, [`${prefix}events/*`, `${prefix}identities/*`]);
    const resultsGrant = this.grantReadObjects(grantee, this.athenaResultsBucket, [`${RESULTS_PREFIX}*`, `${LAKE_FILES_PREFIX}*`]).combine(
      this.grantWriteObjects(grantee, this.athenaResultsBucket, `${RESULTS_PREFIX}*`),
    );
    return athenaGrant.combine(glueGrant).combine(lakeGrant).combine(this.grantReadSnapshots(grantee)).combine(resultsGrant);
  }

  /**
   * Lets the grantee read the daily tiles (issue 14): Glue reads of the tile tables and S3 reads of
   * `tiles/` of the snapshots bucket. Whatever runs a tiled query needs it (the Evaluate state).
   */
  public grantReadTiles(grantee: iam.IGrantable): iam.Grant {
    const glueGrant = iam.Grant.addToPrincipal({
      grantee,
      actions: TILE_READ_ACTIONS,
      resourceArns: [this.catalog.catalogArn, this.catalog.databaseArn, ...this.catalog.tileTableArns],
    });
    return glueGrant.combine(this.grantTileObjects(grantee));
  }

  /**
   * Lets the grantee build the tiles (the Tiles function) and rewrite them (Plan's erasure): Glue
   * reads of the tile tables and of the index of counted ids (`tiles_ids`, which only builds read),
   * and the partitions Athena's INSERT INTO registers in Glue (which the `day` projection then
   * ignores), in one statement (`tiles` and `tiles_ids` have partitions, the others none); read,
   * write and delete objects under `tiles/` of the snapshots bucket only (a stale day's files and
   * fingerprint are deleted before it is rebuilt). Nothing else of the snapshots bucket is written.
   */
  public grantWriteTiles(grantee: iam.IGrantable): iam.Grant {
    const glueGrant = iam.Grant.addToPrincipal({
      grantee,
      actions: [
        ...TILE_READ_ACTIONS,
        'glue:BatchCreatePartition',
        'glue:CreatePartition',
        'glue:UpdatePartition',
        'glue:BatchGetPartition',
      ],
      resourceArns: [this.catalog.catalogArn, this.catalog.databaseArn, ...this.catalog.tileTableArns, this.catalog.tileIdsTableArn],
    });
    const deletes = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:DeleteObject'],
      // Object ARN ends in "*": tile days and fingerprints are not known in advance.
      resourceArns: [this.snapshotsBucket.arnForObjects(`${TILES_PREFIX}*`)],
    });
    return glueGrant
      .combine(this.grantTileObjects(grantee))
      .combine(this.grantWriteObjects(grantee, this.snapshotsBucket, `${TILES_PREFIX}*`))
      .combine(deletes);
  }

  /**
   * Lets the grantee give back the lease over the tile store (the Finish function, for ReleaseTiles and Finish, and AlertFailure; Plan, which
   * takes it, may already write all of `tiles/`): read and write `tiles/lease.json` only.
   */
  public grantTileLease(grantee: iam.IGrantable): iam.Grant {
    return this.grantReadObjects(grantee, this.snapshotsBucket, [TILE_LEASE_KEY]).combine(
      this.grantWriteObjects(grantee, this.snapshotsBucket, TILE_LEASE_KEY),
    );
  }

  /**
   * Lets the grantee keep the source checks' parts (the Plan function, issue 15): read, write and
   * delete objects under `checks/parts/` of the snapshots bucket (counts and event digests, no
   * user id) and under `checks/identity-keys/` (the identity map's keys as MD5 digests, written by
   * Athena's UNLOAD with the grantee's rights), and Glue reads of the `identity_keys` table.
   */
  public grantSourceCheckParts(grantee: iam.IGrantable): iam.Grant {
    const prefixes = [`${SOURCE_CHECK_PARTS_PREFIX}*`, `${IDENTITY_KEYS_PREFIX}*`];
    const deletes = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:DeleteObject'],
      // Object ARNs end in "*": one part per `dt` partition, one key folder per map version, not known in advance.
      resourceArns: prefixes.map((prefix) => this.snapshotsBucket.arnForObjects(prefix)),
    });
    const glueGrant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartition', 'glue:GetPartitions'],
      resourceArns: [this.catalog.catalogArn, this.catalog.databaseArn, this.catalog.identityKeysTableArn],
    });
    return this.grantReadObjects(grantee, this.snapshotsBucket, prefixes)
      .combine(this.grantWriteObjects(grantee, this.snapshotsBucket, `${SOURCE_CHECK_PARTS_PREFIX}*`))
      .combine(this.grantWriteObjects(grantee, this.snapshotsBucket, `${IDENTITY_KEYS_PREFIX}*`))
      .combine(deletes)
      .combine(glueGrant);
  }

  /** S3 reads of `tiles/` of the snapshots bucket. */
  private grantTileObjects(grantee: iam.IGrantable): iam.Grant {
    return this.grantReadObjects(grantee, this.snapshotsBucket, [`${TILES_PREFIX}*`]);
  }

  /**
   * Lets the grantee delete query results under `results/`: a cohort's members query leaves its
   * person ids in `results/<query id>.csv` (and `.metadata`), deleted once read rather than left to
   * the results lifecycle. The query ids are not known in advance, hence the prefix.
   */
  public grantDeleteQueryResults(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:DeleteObject'],
      // Object ARN ends in "*": one result file per query id.
      resourceArns: [this.athenaResultsBucket.arnForObjects(`${RESULTS_PREFIX}*`)],
    });
  }

  /**
   * Lets the grantee write the lake tables' manifests under `lake-files/` of the results bucket
   * (the Plan step), and copy there the lake files whose names Athena would skip. Reading the lake
   * (the copies' source) comes with {@link grantQueryLake}.
   */
  public grantWriteLakeFiles(grantee: iam.IGrantable): iam.Grant {
    return this.grantWriteObjects(grantee, this.athenaResultsBucket, `${LAKE_FILES_PREFIX}*`);
  }

  /**
   * Lets the grantee (an analyst's CLI user or a CI role) run `cohorts plan --cloud`: read the
   * definitions bucket (the live catalog, its named actions, the published catalog and decisions
   * under `catalog/`, and the uploaded lists under `lists/`, which the Glue table `lists` reads when
   * a rule holds a `list:` leaf), query the lake ({@link grantQueryLake}, the `lists` table included)
   * and write the lake tables' manifests under `lake-files/` ({@link grantWriteLakeFiles}). Nothing
   * of the definitions, the snapshots or the lake is written.
   */
  public grantPlan(grantee: iam.IGrantable): iam.Grant {
    // Reading the whole definitions bucket covers lists/ (and its key's kms:Decrypt).
    return this.grantReadDefinitions(grantee).combine(this.grantQueryLake(grantee)).combine(this.grantWriteLakeFiles(grantee));
  }

  /**
   * Lets the grantee (a platform team's CLI user or CI role) run `cohorts doctor --cloud`: query the
   * lake tables ({@link grantQueryLake}), write, read and delete its probe lake under `doctor/` of the
   * results bucket, write and delete the probe's manifests under `lake-files/`, and delete its
   * queries' result files under `results/`. Nothing in the event lake, the snapshots or the definitions is written.
   */
  public grantCheckDeployment(grantee: iam.IGrantable): iam.Grant {
    const bucket = this.athenaResultsBucket;
    const probe = this.grantReadObjects(grantee, bucket, [`${DOCTOR_PREFIX}*`])
      .combine(this.grantWriteObjects(grantee, bucket, `${DOCTOR_PREFIX}*`))
      .combine(this.grantWriteLakeFiles(grantee));
    const deletes = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:DeleteObject'],
      // Object ARNs end in "*": the run's folder, the listing's manifests and the query ids are not known in advance.
      resourceArns: [`${DOCTOR_PREFIX}*`, `${LAKE_FILES_PREFIX}*`, `${RESULTS_PREFIX}*`].map((pattern) => bucket.arnForObjects(pattern)),
    });
    return this.grantQueryLake(grantee).combine(probe).combine(deletes);
  }

  /**
   * Lets the grantee (the ingestion's delivery stream) write new objects under these prefixes of
   * the lake (after the lake prefix), and list the bucket's keys and unfinished uploads; it reads and
   * deletes nothing.
   */
  public grantWriteLake(grantee: iam.IGrantable, prefixes: readonly string[]): iam.Grant {
    const bucket = this.eventLakeBucket;
    return prefixes.reduce(
      (grant, prefix) => grant.combine(this.grantWriteObjects(grantee, bucket, `${this.eventLakePrefix}${prefix}*`)),
      iam.Grant.addToPrincipal({
        grantee,
        // Firehose checks the bucket and lists unfinished multipart uploads before it writes.
        actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
        resourceArns: [bucket.bucketArn],
      }),
    );
  }

  /** Lets the grantee publish to the alerts topic. */
  public grantPublishAlerts(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['sns:Publish'],
      resourceArns: [this.alertsTopic.topicArn],
    }).combine(this.alertsKey.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt'));
  }

  /** ARN pattern of every run's evaluation table in the foundation's database. */
  public get evaluationTablesArn(): string {
    return Stack.of(this).formatArn({
      service: 'glue',
      resource: 'table',
      resourceName: `${this.catalog.databaseName}/${EVALUATION_TABLE_PREFIX}*`,
    });
  }

  /**
   * Lets the grantee use the tables the Evaluate state's CTAS creates, one per run
   * (`evaluation_<run>`): Glue access to those tables only (with the catalog and database Glue
   * checks along the way). Their files live under the results bucket's `results/`, which
   * {@link grantQueryLake} lets read and write; `drop` may also delete them (`results/tables/*`), since
   * releasing an evaluation deletes the person ids it holds rather than wait for the lifecycle rule.
   */
  public grantEvaluationTables(grantee: iam.IGrantable, access: EvaluationTableAccess): iam.Grant {
    const tables = iam.Grant.addToPrincipal({
      grantee,
      actions: EVALUATION_GLUE_ACTIONS[access],
      resourceArns: [this.catalog.catalogArn, this.catalog.databaseArn, this.evaluationTablesArn],
    });
    if (access !== 'drop') return tables;
    return tables.combine(
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['s3:DeleteObject'],
        // Object ARN ends in "*": one folder per Evaluate query id (acknowledged in WILDCARD_REASONS).
        resourceArns: [this.athenaResultsBucket.arnForObjects(`${EVALUATION_FILES_PREFIX}*`)],
      }),
    );
  }

  /**
   * Lets the grantee read a query's runtime statistics in the workgroup: the output row count of a
   * run's CTAS is the population of its evaluation.
   */
  public grantQueryStatistics(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['athena:GetQueryRuntimeStatistics'],
      resourceArns: [this.queryWorkGroup.workGroupArn],
    });
  }

  private grantReadObjects(grantee: iam.IGrantable, bucket: s3.IBucket, keyPatterns: string[]): iam.Grant {
    const listGrant = iam.Grant.addToPrincipal({
      grantee,
      // Listing is bucket-wide: the prefixes Athena and the SDK list with vary, and keys carry no data.
      actions: ['s3:ListBucket', 's3:GetBucketLocation'],
      resourceArns: [bucket.bucketArn],
    });
    const readGrant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject'],
      // Object ARNs end in "*": the keys (versions, dates, cohort ids) are not known in advance.
      resourceArns: keyPatterns.map((pattern) => bucket.arnForObjects(pattern)),
    });
    const grant = listGrant.combine(readGrant);
    return bucket.encryptionKey ? grant.combine(bucket.encryptionKey.grant(grantee, 'kms:Decrypt')) : grant;
  }

  private grantWriteObjects(grantee: iam.IGrantable, bucket: s3.IBucket, keyPattern: string): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
      // Object ARN ends in "*": new keys are written under this prefix.
      resourceArns: [bucket.arnForObjects(keyPattern)],
    });
    // Decrypt too: multipart uploads read back their encrypted parts.
    return bucket.encryptionKey ? grant.combine(bucket.encryptionKey.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt')) : grant;
  }
}
