import { Aws, Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { type Column, externalTable } from './external-table.ts';

/** Options for {@link LakeCatalog}. */
export interface LakeCatalogProps {
  /** Glue database name (lower case, digits, underscores). */
  readonly databaseName: string;
  /** Bucket holding `<prefix>events/` and `<prefix>identities/` (SPEC 1). */
  readonly eventLakeBucket: s3.IBucket;
  /** Key prefix of the lake inside its bucket: `''` or ending in `/`. */
  readonly eventLakePrefix: string;
  /** Bucket holding `snapshots/cohort=<id>/version=<N>/` (SPEC 5). */
  readonly snapshotsBucket: s3.IBucket;
}

/** Partition projection over `dt=YYYY-MM-DD` folders: no crawler, no MSCK REPAIR, no partition API calls. */
const DT_PROJECTION = {
  'projection.enabled': 'true',
  'projection.dt.type': 'date',
  'projection.dt.format': 'yyyy-MM-dd',
  'projection.dt.range': '2015-01-01,NOW',
  'projection.dt.interval': '1',
  'projection.dt.interval.unit': 'DAYS',
};

const DT: Column = { name: 'dt', type: 'string', comment: 'UTC date of ts, yyyy-MM-dd' };

const EVENT_KEYS: readonly Column[] = [
  { name: 'event_id', type: 'string', comment: 'unique id; duplicates count once' },
  { name: 'source', type: 'string', comment: 'system the event came from' },
  { name: 'user_id', type: 'string', comment: "the person's id in the source's namespace" },
  { name: 'event_name', type: 'string' },
];

/**
 * The Glue database and tables over the event lake and the snapshots: what Athena
 * queries. Tables use partition projection, so new `dt=` folders and new snapshot
 * versions are queryable the moment they are written.
 */
export class LakeCatalog extends Construct {
  /** The Glue database. */
  public readonly database: glue.CfnDatabase;
  /** Name of the Glue database. */
  public readonly databaseName: string;
  /** `events_json`: JSON Lines events (`.jsonl`, `.jsonl.gz`). */
  public readonly eventsJsonTable: glue.CfnTable;
  /** `events_parquet`: Parquet events. */
  public readonly eventsParquetTable: glue.CfnTable;
  /** `identities`: the JSON Lines identity map. */
  public readonly identitiesTable: glue.CfnTable;
  /** `cohort_members`: every stored snapshot version, partitioned by cohort and version. */
  public readonly cohortMembersTable: glue.CfnTable;
  /** Names of every table in the database. */
  public readonly tableNames: readonly string[];

  constructor(scope: Construct, id: string, props: LakeCatalogProps) {
    super(scope, id);
    this.databaseName = props.databaseName;
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: {
        name: props.databaseName,
        description: 'cohort-refresh: event lake, identity map and cohort snapshots',
      },
    });

    const lake = `s3://${props.eventLakeBucket.bucketName}/${props.eventLakePrefix}`;
    const common = { database: this.database, databaseName: props.databaseName };
    const eventsProjection = {
      ...DT_PROJECTION,
      // Literal ${dt}: Athena substitutes it, CloudFormation and CDK leave it alone.
      'storage.location.template': `${lake}events/dt=\${dt}/`,
    };

    // events_json and events_parquet read the same folders. Athena reads every object
    // under a partition folder whatever its extension (only names starting with "_" or
    // "." are skipped), so a deployment's lake must hold one format per dt folder, or
    // queries must restrict "$path".
    this.eventsJsonTable = externalTable(this, 'EventsJsonTable', {
      ...common,
      tableName: 'events_json',
      description: 'Events as JSON Lines; ts is text and parsed by the query (offsets allowed).',
      format: 'json',
      columns: [
        ...EVENT_KEYS,
        { name: 'ts', type: 'string', comment: 'YYYY-MM-DDTHH:MM:SS[.f](Z|+-HH:MM)' },
        { name: 'properties', type: 'string', comment: 'JSON object rendered as text' },
        { name: 'value', type: 'double' },
      ],
      partitionKeys: [DT],
      location: `${lake}events/`,
      parameters: eventsProjection,
    });

    this.eventsParquetTable = externalTable(this, 'EventsParquetTable', {
      ...common,
      tableName: 'events_parquet',
      description: 'Events as Parquet; ts is a UTC timestamp.',
      format: 'parquet',
      columns: [
        ...EVENT_KEYS,
        { name: 'ts', type: 'timestamp', comment: 'UTC' },
        { name: 'properties', type: 'string', comment: 'JSON object as text' },
        { name: 'value', type: 'double' },
      ],
      partitionKeys: [DT],
      location: `${lake}events/`,
      parameters: eventsProjection,
    });

    this.identitiesTable = externalTable(this, 'IdentitiesTable', {
      ...common,
      tableName: 'identities',
      description: 'Identity map: (source, user_id) -> person_id, JSON Lines.',
      format: 'json',
      columns: [
        { name: 'source', type: 'string' },
        { name: 'user_id', type: 'string' },
        { name: 'person_id', type: 'string' },
      ],
      location: `${lake}identities/`,
    });

    const snapshots = `s3://${props.snapshotsBucket.bucketName}/snapshots/`;
    // members.parquet shares its folder with manifest.json, and Athena does not filter by
    // extension (it skips only names starting with "_" or "."): the Parquet reader opens
    // manifest.json too and the query fails. Until the writer hides non-Parquet files that
    // way, queries must pin the file: "$path" = '<folder>members.parquet'. Trino, which
    // engine 3 is built on, drops non-matching files before reading on such an equality.
    this.cohortMembersTable = externalTable(this, 'CohortMembersTable', {
      ...common,
      tableName: 'cohort_members',
      description: 'Members of every stored snapshot version; filter cohort and version.',
      format: 'parquet',
      columns: [{ name: 'person_id', type: 'string' }],
      partitionKeys: [
        { name: 'cohort', type: 'string', comment: 'cohort id' },
        { name: 'version', type: 'int', comment: 'snapshot version, from 1' },
      ],
      location: snapshots,
      parameters: {
        'projection.enabled': 'true',
        // injected: every query names its cohort(s), so no listing of cohort folders.
        'projection.cohort.type': 'injected',
        'projection.version.type': 'integer',
        'projection.version.range': '1,1000000',
        'storage.location.template': `${snapshots}cohort=\${cohort}/version=\${version}/`,
      },
    });

    this.tableNames = ['events_json', 'events_parquet', 'identities', 'cohort_members'];
  }

  /** ARN of the account's Glue Data Catalog: every Glue read names it. */
  public get catalogArn(): string {
    return Stack.of(this).formatArn({ service: 'glue', resource: 'catalog' });
  }

  /** ARN of the Glue database. */
  public get databaseArn(): string {
    return Stack.of(this).formatArn({ service: 'glue', resource: 'database', resourceName: this.databaseName });
  }

  /** ARNs of every table in the database. */
  public get tableArns(): string[] {
    return this.tableNames.map((name) =>
      Stack.of(this).formatArn({ service: 'glue', resource: 'table', resourceName: `${this.databaseName}/${name}` }),
    );
  }
}
