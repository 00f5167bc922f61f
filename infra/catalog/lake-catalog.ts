import { Aws, Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DT_PROJECTION_RANGE, MANIFEST_FOLDERS } from '../../shared/cloud/lake-manifests.ts';
import { TS_UNITS } from '../../shared/cloud/lake-objects.ts';
import {
  CONTESTED_TABLE_COLUMNS,
  IDENTITY_KEYS_COLUMNS,
  IDENTITY_KEYS_TABLE,
  TILE_DAY_COLUMN,
  TILE_TABLE_COLUMNS,
  TILES_CONTESTED_TABLE,
  TILES_IDS_TABLE,
  IDS_TABLE_COLUMNS,
  TILES_POPULATION_TABLE,
  POPULATION_TABLE_COLUMNS,
  TILES_TABLE,
} from '../../shared/cloud/athena-tile-tables.ts';
import {
  IDENTITY_KEYS_PREFIX,
  TILE_CONTESTED_PREFIX,
  TILE_DAYS_PREFIX,
  TILE_IDS_PREFIX,
  TILE_POPULATION_PREFIX,
} from '../../shared/bucket-layout.ts';
import { type Column, externalTable } from './external-table.ts';
import { LISTS_FOLDER } from '../../shared/language/uploaded-lists.ts';

/** Options for {@link LakeCatalog}. */
export interface LakeCatalogProps {
  /** Glue database name (lower case, digits, underscores). */
  readonly databaseName: string;
  /** Bucket holding `<prefix>events/` and `<prefix>identities/` (SPEC 1). */
  readonly eventLakeBucket: s3.IBucket;
  /** Key prefix of the lake inside its bucket: `''` or ending in `/`. */
  readonly eventLakePrefix: string;
  /** Bucket the Plan step writes the lake tables' manifests to (under {@link filesPrefix}). */
  readonly filesBucket: s3.IBucket;
  /** Key prefix of the manifests in {@link filesBucket}, ending in `/`. */
  readonly filesPrefix: string;
  /** Bucket holding `snapshots/cohort=<id>/version=<N>/` (SPEC 5). */
  readonly snapshotsBucket: s3.IBucket;
  /** The definitions bucket, whose `lists/` the uploaded lists table reads. */
  readonly definitionsBucket: s3.IBucket;
}

/**
 * `listing` is injected: every query names the listing whose manifests the Plan wrote (one per run,
 * a hash of the lake's files), so Athena never lists listings. `dt` is projected as a date; the
 * query bounds it by the dates its listing holds, and its own `dt` filters prune further.
 */
const LISTING_PROJECTION = { 'projection.enabled': 'true', 'projection.listing.type': 'injected' };
const DT_PROJECTION = {
  ...LISTING_PROJECTION,
  'projection.dt.type': 'date',
  'projection.dt.format': 'yyyy-MM-dd',
  'projection.dt.range': `${DT_PROJECTION_RANGE.from},${DT_PROJECTION_RANGE.to}`,
  'projection.dt.interval': '1',
  'projection.dt.interval.unit': 'DAYS',
};

/** `unit` (Parquet events): how the files' `ts` is stored, read by the Plan from each footer. */
const UNIT_PROJECTION = { 'projection.unit.type': 'enum', 'projection.unit.values': TS_UNITS.join(',') };

const LISTING: Column = { name: 'listing', type: 'string', comment: "the Plan's listing of the lake: which manifests are read" };
const UNIT: Column = { name: 'unit', type: 'string', comment: 'how the files store ts: millis, micros, nanos (INT64 timestamps) or none' };
const DT: Column = { name: 'dt', type: 'string', comment: 'the dt= folder of the files, yyyy-MM-dd' };
const LINE: Column = { name: 'line', type: 'string', comment: 'one line of a .jsonl / .jsonl.gz file, as written' };

const EVENT_KEYS: readonly Column[] = [
  { name: 'event_id', type: 'string', comment: 'unique id; duplicates count once' },
  { name: 'source', type: 'string', comment: 'system the event came from' },
  { name: 'user_id', type: 'string', comment: "the person's id in the source's namespace" },
  { name: 'event_name', type: 'string' },
];

/**
 * The Glue database and tables over the event lake and the snapshots: what Athena
 * queries. Tables use partition projection: no crawler, no partition API calls.
 *
 * The four lake tables read the files of the lake through manifests the Plan step writes for each
 * run (SymlinkTextInputFormat, one manifest per table and `dt`), never the lake's folders: each
 * table's reader opens only files of its own format, files named `_x.jsonl` or `.x.jsonl` are read
 * too (the Plan copies them to a plain name, which Athena does not skip), and every `dt=` date is
 * readable, not only a range ending today.
 */
export class LakeCatalog extends Construct {
  /** The Glue database. */
  public readonly database: glue.CfnDatabase;
  /** Name of the Glue database. */
  public readonly databaseName: string;
  /** `events_jsonl`: the lines of the JSON Lines events (`.jsonl`, `.jsonl.gz`). */
  public readonly eventsJsonlTable: glue.CfnTable;
  /** `events_parquet`: Parquet events. */
  public readonly eventsParquetTable: glue.CfnTable;
  /** `identities_jsonl`: the lines of the JSON Lines identity map. */
  public readonly identitiesJsonlTable: glue.CfnTable;
  /** `identities_parquet`: the Parquet identity map. */
  public readonly identitiesParquetTable: glue.CfnTable;
  /** `cohort_members`: every stored snapshot version, partitioned by cohort and version. */
  public readonly cohortMembersTable: glue.CfnTable;
  /** `lists`: the lines of the uploaded lists, `lists/<name>.csv` of the definitions bucket. */
  public readonly listsTable: glue.CfnTable;
  /** `tiles`: the daily tiles (issue 14), written by the Tiles function, read by Evaluate. */
  public readonly tilesTable: glue.CfnTable;
  /** `tiles_contested`: every raw copy of the event ids whose valid copies lie on several days. */
  public readonly tilesContestedTable: glue.CfnTable;
  /** `tiles_population`: the population index of the tiles, one row per identity key (issue 15). */
  public readonly tilesPopulationTable: glue.CfnTable;
  /** `tiles_ids`: the index of counted ids, per UTC day; only the Tiles function reads and writes it. */
  public readonly tilesIdsTable: glue.CfnTable;
  /** `identity_keys`: the identity map's keys the source checks join, one `version` per map (only Plan reads and writes it). */
  public readonly identityKeysTable: glue.CfnTable;
  /** Names of every table in the database but the tile tables (see {@link tileTableNames}) and {@link identityKeysTable}. */
  public readonly tableNames: readonly string[];
  /** Names of the tile tables: only what reads or builds tiles is granted them. */
  public readonly tileTableNames: readonly string[] = [TILES_TABLE, TILES_CONTESTED_TABLE, TILES_POPULATION_TABLE];

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

    const files = `s3://${props.filesBucket.bucketName}/${props.filesPrefix}`;
    const common = { database: this.database, databaseName: props.databaseName };
    // Literal ${listing} and ${dt}: Athena substitutes them, CloudFormation and CDK leave them alone.
    const manifests = (folder: string, withDt: boolean, withUnit = false) => ({
      location: files,
      parameters: {
        ...(withDt ? DT_PROJECTION : LISTING_PROJECTION),
        ...(withUnit ? UNIT_PROJECTION : {}),
        'storage.location.template': `${files}\${listing}/${folder}/${withUnit ? `unit=\${unit}/` : ''}${withDt ? `dt=\${dt}/` : ''}`,
      },
    });

    this.eventsJsonlTable = externalTable(this, 'EventsJsonlTable', {
      ...common,
      tableName: 'events_jsonl',
      description: 'Events as JSON Lines: each line as text, parsed by the query.',
      format: 'lines-manifest',
      columns: [LINE],
      partitionKeys: [LISTING, DT],
      ...manifests(MANIFEST_FOLDERS.eventsJsonl, true),
    });

    this.eventsParquetTable = externalTable(this, 'EventsParquetTable', {
      ...common,
      tableName: 'events_parquet',
      description: 'Events as Parquet; ts is the stored INT64 count of the unit partition since the epoch (UTC).',
      format: 'parquet-manifest',
      columns: [
        ...EVENT_KEYS,
        // bigint, not timestamp: Athena reads a Hive timestamp at millisecond precision, rounding.
        { name: 'ts', type: 'bigint', comment: 'INT64 timestamp as stored: millis, micros or nanos since 1970-01-01 UTC, per unit' },
        { name: 'properties', type: 'string', comment: 'JSON object as text' },
        { name: 'value', type: 'double' },
      ],
      partitionKeys: [LISTING, UNIT, DT],
      ...manifests(MANIFEST_FOLDERS.eventsParquet, true, true),
    });

    this.identitiesJsonlTable = externalTable(this, 'IdentitiesJsonlTable', {
      ...common,
      tableName: 'identities_jsonl',
      description: 'Identity map as JSON Lines: each line as text, parsed by the query.',
      format: 'lines-manifest',
      columns: [LINE],
      partitionKeys: [LISTING],
      ...manifests(MANIFEST_FOLDERS.identitiesJsonl, false),
    });

    this.identitiesParquetTable = externalTable(this, 'IdentitiesParquetTable', {
      ...common,
      tableName: 'identities_parquet',
      description: 'Identity map as Parquet: (source, user_id) -> person_id.',
      format: 'parquet-manifest',
      columns: [
        { name: 'source', type: 'string' },
        { name: 'user_id', type: 'string' },
        { name: 'person_id', type: 'string' },
      ],
      partitionKeys: [LISTING],
      ...manifests(MANIFEST_FOLDERS.identitiesParquet, false),
    });

    // The uploaded lists: every object of the definitions bucket's lists/, a line as text; the
    // query takes a list's name from "$path" (shared/cloud/athena-lists.ts).
    this.listsTable = externalTable(this, 'ListsTable', {
      ...common,
      tableName: 'lists',
      description: 'Uploaded lists (static cohorts): each line of lists/<name>.csv as text, normalized by the query.',
      format: 'lines',
      columns: [{ name: 'line', type: 'string', comment: 'one line of a list file, as written' }],
      location: `s3://${props.definitionsBucket.bucketName}/${LISTS_FOLDER}/`,
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

    // The tiles: Parquet the Tiles function's INSERT INTO writes. Athena writes a partition to the
    // table's location plus `day=<value>/` whatever the projection says, so the template is that.
    const tileDays = `s3://${props.snapshotsBucket.bucketName}/${TILE_DAYS_PREFIX}`;
    this.tilesTable = externalTable(this, 'TilesTable', {
      ...common,
      tableName: TILES_TABLE,
      description: 'Daily tiles: partial aggregates per measure, identity key and UTC day (built by the Tiles step).',
      format: 'parquet',
      columns: TILE_TABLE_COLUMNS,
      partitionKeys: [TILE_DAY_COLUMN],
      location: tileDays,
      parameters: { ...dayProjection(tileDays), ...TILE_PARQUET_PARAMETERS },
    });
    this.tilesContestedTable = externalTable(this, 'TilesContestedTable', {
      ...common,
      tableName: TILES_CONTESTED_TABLE,
      description: 'Every raw copy of the event ids whose valid copies lie on several days (rewritten by the Tiles step).',
      format: 'parquet',
      columns: CONTESTED_TABLE_COLUMNS,
      location: `s3://${props.snapshotsBucket.bucketName}/${TILE_CONTESTED_PREFIX}`,
      parameters: TILE_PARQUET_PARAMETERS,
    });
    const idDays = `s3://${props.snapshotsBucket.bucketName}/${TILE_IDS_PREFIX}`;
    this.tilesIdsTable = externalTable(this, 'TilesIdsTable', {
      ...common,
      tableName: TILES_IDS_TABLE,
      description: 'The index of counted ids: the distinct valid event ids per UTC day (kept by the Tiles step).',
      format: 'parquet',
      columns: IDS_TABLE_COLUMNS,
      partitionKeys: [TILE_DAY_COLUMN],
      location: idDays,
      parameters: { ...dayProjection(idDays), ...TILE_PARQUET_PARAMETERS },
    });
    this.tilesPopulationTable = externalTable(this, 'TilesPopulationTable', {
      ...common,
      tableName: TILES_POPULATION_TABLE,
      description: 'The population index of the tiles: each identity key with its first and last tile day (kept by the Tiles step).',
      format: 'parquet',
      columns: POPULATION_TABLE_COLUMNS,
      location: `s3://${props.snapshotsBucket.bucketName}/${TILE_POPULATION_PREFIX}`,
      parameters: TILE_PARQUET_PARAMETERS,
    });

    const identityKeys = `s3://${props.snapshotsBucket.bucketName}/${IDENTITY_KEYS_PREFIX}`;
    this.identityKeysTable = externalTable(this, 'IdentityKeysTable', {
      ...common,
      tableName: IDENTITY_KEYS_TABLE,
      description: "The identity map's keys (source, MD5 of the normalized user id) the source checks join (kept by the Plan step).",
      format: 'parquet',
      columns: IDENTITY_KEYS_COLUMNS,
      partitionKeys: [{ name: 'version', type: 'string', comment: "a digest of the identity map's files" }],
      location: identityKeys,
      parameters: {
        'projection.enabled': 'true',
        // injected: every query names the version its state object holds, so no listing of versions.
        'projection.version.type': 'injected',
        'storage.location.template': `${identityKeys}version=\${version}/`,
      },
    });

    this.tableNames = ['events_jsonl', 'events_parquet', 'identities_jsonl', 'identities_parquet', 'cohort_members', 'lists'];
  }

  /** ARNs of the tile tables. */
  public get tileTableArns(): string[] {
    return this.tileTableNames.map((name) =>
      Stack.of(this).formatArn({ service: 'glue', resource: 'table', resourceName: `${this.databaseName}/${name}` }),
    );
  }

  /** ARN of the index of counted ids (`tiles_ids`, partitioned): only what builds tiles is granted it. */
  public get tileIdsTableArn(): string {
    return Stack.of(this).formatArn({ service: 'glue', resource: 'table', resourceName: `${this.databaseName}/${TILES_IDS_TABLE}` });
  }

  /** ARN of the kept identity keys' table (`identity_keys`): only Plan is granted it. */
  public get identityKeysTableArn(): string {
    return Stack.of(this).formatArn({ service: 'glue', resource: 'table', resourceName: `${this.databaseName}/${IDENTITY_KEYS_TABLE}` });
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

/**
 * The codec Athena's INSERT INTO writes the tile tables with (a Hive table's Parquet is GZIP by
 * default): ZSTD, as the local tile store writes its files (shared/local/tile-parquet.ts).
 */
const TILE_PARQUET_PARAMETERS: Record<string, string> = { 'parquet.compression': 'ZSTD' };

/**
 * The `day` partition projection of a table Athena's INSERT INTO writes (the tiles, the index of
 * counted ids): a date over the lake's range; Athena writes a partition to the table's location
 * plus `day=<value>/` whatever the projection says, so the template is that.
 */
function dayProjection(location: string): Record<string, string> {
  return {
    'projection.enabled': 'true',
    'projection.day.type': 'date',
    'projection.day.format': 'yyyy-MM-dd',
    'projection.day.range': `${DT_PROJECTION_RANGE.from},${DT_PROJECTION_RANGE.to}`,
    'projection.day.interval': '1',
    'projection.day.interval.unit': 'DAYS',
    'storage.location.template': `${location}day=\${day}/`,
  };
}
