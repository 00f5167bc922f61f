import { Duration, Size, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { INGEST_ERRORS_PREFIX } from '../../shared/bucket-layout.ts';
import { acknowledgeWildcardResources, WILDCARD_REASONS } from '../common/nag-acknowledgements.ts';
import type { CohortFoundation } from '../foundation/cohort-foundation.ts';
import { UTC_DAY_QUERY } from './utc-day-query.ts';

/** An EventBridge bus whose matching events the delivery stream takes, each event's `detail` as one record. */
export interface IngestionForwarding {
  /** The bus to forward from. */
  readonly eventBus: events.IEventBus;
  /** Which events: their `detail` must be one event in the SPEC's columns (README, "Ingesting events"). */
  readonly eventPattern: events.EventPattern;
}

/** Settings of the ingestion: `ingestion: true` takes every default. */
export interface EventIngestionSettings {
  /**
   * How long Firehose buffers records before it writes a file: 60 to 900 seconds (60 at least with
   * dynamic partitioning). Events reach the lake, and a refresh, about this much after they are sent.
   *
   * @default Duration.seconds(60)
   */
  readonly bufferingInterval?: Duration;
  /**
   * How much Firehose buffers, per partition, before it writes a file earlier: 64 to 128 MiB
   * (the range dynamic partitioning allows).
   *
   * @default Size.mebibytes(64)
   */
  readonly bufferingSize?: Size;
  /**
   * Forward a bus's events to the stream (an EventBridge rule).
   *
   * @default - none: producers call PutRecord / PutRecordBatch (see `grantPutEvents`)
   */
  readonly forward?: IngestionForwarding;
  /**
   * Name of the delivery stream; unique per account and region.
   *
   * @default - a name CloudFormation generates
   */
  readonly deliveryStreamName?: string;
  /**
   * How long Firehose's delivery error logs are kept.
   *
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

/** Properties of {@link EventIngestion}. */
export interface EventIngestionProps extends EventIngestionSettings {
  /** The foundation whose lake bucket and prefix the stream writes. */
  readonly foundation: CohortFoundation;
}

/**
 * An Amazon Data Firehose delivery stream that writes events into the lake's own layout: JSON
 * Lines, gzip, one record a line, in `events/dt=YYYY-MM-DD/` of the UTC day of each record's `ts`
 * (dynamic partitioning with a jq query, utc-day-query.ts), so every refresh reads them with no
 * further step. A record whose day cannot be placed (no `ts`, not the SPEC's grammar, not JSON)
 * goes to `events-errors/<error type>/dt=<arrival day>/`, outside `events/`, which the source checks
 * count (`lake.refused`). The stream's role may write only those two prefixes; the stream is
 * encrypted at rest, and the files by the lake bucket's default encryption.
 */
export class EventIngestion extends Construct {
  /** The delivery stream producers send to. */
  public readonly deliveryStream: firehose.DeliveryStream;
  /** The role Firehose writes the lake with. */
  public readonly role: iam.Role;
  /** Where Firehose logs the records it failed to deliver. */
  public readonly logGroup: logs.LogGroup;
  /** The rule forwarding a bus's events, when `forward` was given. */
  public readonly forwardRule?: events.Rule;

  constructor(scope: Construct, id: string, props: EventIngestionProps) {
    super(scope, id);
    const { foundation } = props;
    const lake = foundation.eventLakePrefix;
    this.role = new iam.Role(this, 'Role', {
      description: 'cohort-refresh ingestion: Firehose writes events into the lake',
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    foundation.grantWriteLake(this.role, ['events/', INGEST_ERRORS_PREFIX]);

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS });
    this.logGroup.grantWrite(this.role);

    // The destination's own grants are bucket-wide read and write; it gets a view of the role it
    // cannot add to, and the role holds only the grants above.
    const destination = new firehose.S3Bucket(foundation.eventLakeBucket, {
      role: this.role.withoutPolicyUpdates(),
      dataOutputPrefix: `${lake}events/dt=!{partitionKeyFromQuery:dt}/`,
      errorOutputPrefix: `${lake}${INGEST_ERRORS_PREFIX}!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/`,
      // The lake reader reads `.jsonl.gz` files (SPEC section 1); Firehose would name them `.gz`.
      fileExtension: '.jsonl.gz',
      compression: firehose.Compression.GZIP,
      bufferingInterval: props.bufferingInterval ?? Duration.seconds(60),
      bufferingSize: props.bufferingSize ?? Size.mebibytes(64),
      dynamicPartitioning: { enabled: true },
      processors: [firehose.MetadataExtractionProcessor.jq16({ dt: UTC_DAY_QUERY }), new firehose.AppendDelimiterToRecordProcessor()],
      loggingConfig: new firehose.EnableLogging(this.logGroup),
    });
    this.deliveryStream = new firehose.DeliveryStream(this, 'Stream', {
      destination,
      encryption: firehose.StreamEncryption.awsOwnedKey(),
      ...(props.deliveryStreamName ? { deliveryStreamName: props.deliveryStreamName } : {}),
    });
    // The L2 stream maps Firehose's CIDR blocks for its `connections`, which only a VPC destination
    // reads; CloudFormation's validation reports the map as unused, on the stack.
    Validations.of(Stack.of(this)).acknowledge({
      id: 'CloudFormation-Validate::W7001',
      reason:
        "The Firehose delivery stream construct adds a mapping of Firehose's CIDR blocks for VPC destinations; the ingestion writes to S3 and never reads it.",
    });
    // The write grants must exist before Firehose first writes.
    this.deliveryStream.node.addDependency(this.role);
    acknowledgeWildcardResources(this.role, WILDCARD_REASONS);

    if (props.forward) {
      this.forwardRule = new events.Rule(this, 'Forward', {
        description: 'cohort-refresh ingestion: forwards the detail of matching events to the delivery stream',
        eventBus: props.forward.eventBus,
        eventPattern: props.forward.eventPattern,
        targets: [new targets.FirehoseDeliveryStream(this.deliveryStream, { message: events.RuleTargetInput.fromEventPath('$.detail') })],
      });
    }
  }

  /** Lets the grantee send events (`firehose:PutRecord`, `firehose:PutRecordBatch`) to this stream and nothing else. */
  public grantPutEvents(grantee: iam.IGrantable): iam.Grant {
    return this.deliveryStream.grantPutRecords(grantee);
  }
}
