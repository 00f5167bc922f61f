import { Match } from 'aws-cdk-lib/assertions';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { givenFoundation, refTo, templateOf } from './support.ts';

const LISTING_PROJECTION = { 'projection.enabled': 'true', 'projection.listing.type': 'injected' };
const DT_PROJECTION = {
  ...LISTING_PROJECTION,
  'projection.dt.type': 'date',
  'projection.dt.format': 'yyyy-MM-dd',
  'projection.dt.range': '1583-01-01,9999-12-31',
  'projection.dt.interval': '1',
  'projection.dt.interval.unit': 'DAYS',
};
const SYMLINK = 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat';
const LINE = [Match.objectLike({ Name: 'line', Type: 'string' })];
const BY_LISTING = [Match.objectLike({ Name: 'listing', Type: 'string' })];
const BY_LISTING_AND_DT = [...BY_LISTING, Match.objectLike({ Name: 'dt', Type: 'string' })];
const BY_LISTING_UNIT_AND_DT = [
  ...BY_LISTING,
  Match.objectLike({ Name: 'unit', Type: 'string' }),
  Match.objectLike({ Name: 'dt', Type: 'string' }),
];
const UNIT_PROJECTION = { ...DT_PROJECTION, 'projection.unit.type': 'enum', 'projection.unit.values': 'millis,micros,nanos,none' };

const EVENT_KEYS = [
  Match.objectLike({ Name: 'event_id', Type: 'string' }),
  Match.objectLike({ Name: 'source', Type: 'string' }),
  Match.objectLike({ Name: 'user_id', Type: 'string' }),
  Match.objectLike({ Name: 'event_name', Type: 'string' }),
];

/** `s3://<bucket ref><suffix>` as CloudFormation renders a location in a created bucket. */
function s3Join(bucket: s3.IBucket, suffix: string) {
  return { 'Fn::Join': ['', ['s3://', refTo(bucket), suffix]] };
}

describe('CohortFoundation Glue catalog', () => {
  it('creates the cohort_refresh database in the account catalog', () => {
    const { stack } = givenFoundation();

    templateOf(stack).hasResourceProperties('AWS::Glue::Database', {
      CatalogId: { Ref: 'AWS::AccountId' },
      DatabaseInput: Match.objectLike({ Name: 'cohort_refresh' }),
    });
  });

  it('creates eleven tables, each after the database', () => {
    const { stack, foundation } = givenFoundation();
    const template = templateOf(stack);

    template.resourceCountIs('AWS::Glue::Table', 11);
    template.allResources('AWS::Glue::Table', {
      DependsOn: [stack.getLogicalId(foundation.catalog.database)],
      Properties: Match.objectLike({ DatabaseName: 'cohort_refresh' }),
    });
  });

  it.each([
    ['events_jsonl', 'events-jsonl/dt=${dt}/', BY_LISTING_AND_DT, DT_PROJECTION],
    ['identities_jsonl', 'identities-jsonl/', BY_LISTING, LISTING_PROJECTION],
  ])('reads %s as lines of text (LazySimpleSerDe) from the files its manifests list', (name, folder, keys, projection) => {
    const { stack, foundation } = givenFoundation();

    templateOf(stack).hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: name,
        TableType: 'EXTERNAL_TABLE',
        PartitionKeys: keys,
        Parameters: Match.objectLike({
          ...projection,
          'storage.location.template': s3Join(foundation.athenaResultsBucket, `/lake-files/\${listing}/${folder}`),
        }),
        StorageDescriptor: Match.objectLike({
          Location: s3Join(foundation.athenaResultsBucket, '/lake-files/'),
          InputFormat: SYMLINK,
          SerdeInfo: Match.objectLike({ SerializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe' }),
          Columns: LINE,
        }),
      }),
    });
  });

  it.each([
    // ts as bigint: the stored INT64, never a Hive timestamp (read at millisecond precision).
    [
      'events_parquet',
      'events-parquet/unit=${unit}/dt=${dt}/',
      BY_LISTING_UNIT_AND_DT,
      UNIT_PROJECTION,
      [
        ...EVENT_KEYS,
        Match.objectLike({ Name: 'ts', Type: 'bigint' }),
        Match.objectLike({ Name: 'properties', Type: 'string' }),
        Match.objectLike({ Name: 'value', Type: 'double' }),
      ],
    ],
    [
      'identities_parquet',
      'identities-parquet/',
      BY_LISTING,
      LISTING_PROJECTION,
      ['source', 'user_id', 'person_id'].map((Name) => Match.objectLike({ Name, Type: 'string' })),
    ],
  ])('reads %s as Parquet from the files its manifests list', (name, folder, keys, projection, columns) => {
    const { stack, foundation } = givenFoundation();

    templateOf(stack).hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: name,
        PartitionKeys: keys,
        Parameters: Match.objectLike({
          ...projection,
          'storage.location.template': s3Join(foundation.athenaResultsBucket, `/lake-files/\${listing}/${folder}`),
        }),
        StorageDescriptor: Match.objectLike({
          InputFormat: SYMLINK,
          SerdeInfo: Match.objectLike({ SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' }),
          Columns: columns,
        }),
      }),
    });
  });

  it('keeps the daily tiles as Parquet under tiles/days/ of the snapshots bucket, a day=<yyyy-MM-dd>/ folder per projected day', () => {
    const { stack, foundation } = givenFoundation();

    templateOf(stack).hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'tiles',
        PartitionKeys: [Match.objectLike({ Name: 'day', Type: 'string' })],
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.day.type': 'date',
          'projection.day.format': 'yyyy-MM-dd',
          'projection.day.range': '1583-01-01,9999-12-31',
          // Where Athena's INSERT INTO writes a partition: the table location plus day=<value>/.
          'storage.location.template': s3Join(foundation.snapshotsBucket, '/tiles/days/day=${day}/'),
        }),
        StorageDescriptor: Match.objectLike({
          Location: s3Join(foundation.snapshotsBucket, '/tiles/days/'),
          SerdeInfo: Match.objectLike({ SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' }),
          Columns: [
            ...['measure', 'source', 'user_key'].map((Name) => Match.objectLike({ Name, Type: 'string' })),
            Match.objectLike({ Name: 'n', Type: 'bigint' }),
            Match.objectLike({ Name: 'total', Type: 'double' }),
            Match.objectLike({ Name: 'abs_total', Type: 'double' }),
            Match.objectLike({ Name: 'integral', Type: 'boolean' }),
            Match.objectLike({ Name: 'value', Type: 'string' }),
            // Text, never a Hive timestamp (read at millisecond precision): cast back to the microsecond.
            Match.objectLike({ Name: 'latest_ts', Type: 'string' }),
            Match.objectLike({ Name: 'latest_event_id', Type: 'string' }),
            Match.objectLike({ Name: 'latest_json', Type: 'string' }),
          ],
        }),
      }),
    });
    templateOf(stack).hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'tiles_contested',
        StorageDescriptor: Match.objectLike({
          Location: s3Join(foundation.snapshotsBucket, '/tiles/contested/'),
          Columns: [
            ...EVENT_KEYS,
            Match.objectLike({ Name: 'ts', Type: 'string' }),
            Match.objectLike({ Name: 'properties', Type: 'string' }),
            Match.objectLike({ Name: 'value', Type: 'double' }),
            Match.objectLike({ Name: 'dt', Type: 'string' }),
          ],
        }),
      }),
    });
    // The index of counted ids: event ids per UTC day, `day` projected as the tiles' is.
    templateOf(stack).hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'tiles_ids',
        PartitionKeys: [Match.objectLike({ Name: 'day', Type: 'string' })],
        Parameters: Match.objectLike({
          'projection.day.type': 'date',
          'storage.location.template': s3Join(foundation.snapshotsBucket, '/tiles/ids/day=${day}/'),
        }),
        StorageDescriptor: Match.objectLike({
          Location: s3Join(foundation.snapshotsBucket, '/tiles/ids/'),
          Columns: [Match.objectLike({ Name: 'event_id', Type: 'string' })],
        }),
      }),
    });
    // The population index: not partitioned, one row per identity key, days as text.
    templateOf(stack).hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'tiles_population',
        PartitionKeys: Match.absent(),
        StorageDescriptor: Match.objectLike({
          Location: s3Join(foundation.snapshotsBucket, '/tiles/population/'),
          Columns: ['source', 'user_key', 'first_day', 'last_day'].map((name) => Match.objectLike({ Name: name, Type: 'string' })),
        }),
      }),
    });
  });

  it("keeps the identity map's keys for the source checks in a table of the snapshots bucket, one injected version per map", () => {
    const { stack, foundation } = givenFoundation();
    templateOf(stack).hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'identity_keys',
        PartitionKeys: [Match.objectLike({ Name: 'version', Type: 'string' })],
        Parameters: Match.objectLike({ 'projection.enabled': 'true', 'projection.version.type': 'injected' }),
        StorageDescriptor: Match.objectLike({
          Location: s3Join(foundation.snapshotsBucket, '/checks/identity-keys/'),
          Columns: ['source', 'user_key'].map((name) => Match.objectLike({ Name: name, Type: 'string' })),
        }),
      }),
    });
  });

  it("has Athena write every tile table's Parquet with ZSTD, as the local tile store writes its files", () => {
    const { stack } = givenFoundation();
    // A Hive table's INSERT INTO writes GZIP unless the table names a codec.
    for (const name of ['tiles', 'tiles_contested', 'tiles_ids', 'tiles_population']) {
      templateOf(stack).hasResourceProperties('AWS::Glue::Table', {
        TableInput: Match.objectLike({ Name: name, Parameters: Match.objectLike({ 'parquet.compression': 'ZSTD' }) }),
      });
    }
  });

  it('keeps the manifests in the results bucket, whose lifecycle rule expires everything in it', () => {
    const { stack, foundation } = givenFoundation();

    templateOf(stack).hasResourceProperties('AWS::S3::Bucket', {
      // No prefix: the rule covers lake-files/ as well as results/.
      LifecycleConfiguration: { Rules: Match.arrayWith([{ Id: 'ExpireQueryResults', Status: 'Enabled', ExpirationInDays: 7 }]) },
    });
    expect(stack.resolve(foundation.catalog.tableNames)).toEqual([
      'events_jsonl',
      'events_parquet',
      'identities_jsonl',
      'identities_parquet',
      'cohort_members',
      'lists',
    ]);
  });

  it('reads the uploaded lists as lists: every object of lists/ of the definitions bucket, a line as text', () => {
    const { stack, foundation } = givenFoundation();

    templateOf(stack).hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'lists',
        PartitionKeys: Match.absent(),
        StorageDescriptor: Match.objectLike({
          InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          SerdeInfo: Match.objectLike({ SerializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe' }),
          Columns: LINE,
          Location: s3Join(foundation.definitionsBucket, '/lists/'),
        }),
      }),
    });
  });

  it('reads every snapshot version as cohort_members, projected by injected cohort and integer version', () => {
    const { stack, foundation } = givenFoundation();

    templateOf(stack).hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'cohort_members',
        PartitionKeys: [Match.objectLike({ Name: 'cohort', Type: 'string' }), Match.objectLike({ Name: 'version', Type: 'int' })],
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.cohort.type': 'injected',
          'projection.version.type': 'integer',
          'projection.version.range': '1,1000000',
          'storage.location.template': s3Join(foundation.snapshotsBucket, '/snapshots/cohort=${cohort}/version=${version}/'),
        }),
        StorageDescriptor: Match.objectLike({
          Location: s3Join(foundation.snapshotsBucket, '/snapshots/'),
          SerdeInfo: Match.objectLike({
            SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
          }),
          Columns: [Match.objectLike({ Name: 'person_id', Type: 'string' })],
        }),
      }),
    });
  });

  it('names the database as configured', () => {
    const { stack } = givenFoundation({ databaseName: 'cohorts_staging' });
    const template = templateOf(stack);

    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: Match.objectLike({ Name: 'cohorts_staging' }) });
    template.allResourcesProperties('AWS::Glue::Table', { DatabaseName: 'cohorts_staging' });
  });
});
