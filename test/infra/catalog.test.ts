import { Match } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, it } from 'vitest';
import { givenCohortRefresh, refTo, templateOf } from './support.ts';

const DT_PROJECTION = {
  'projection.enabled': 'true',
  'projection.dt.type': 'date',
  'projection.dt.format': 'yyyy-MM-dd',
  'projection.dt.range': '2015-01-01,NOW',
  'projection.dt.interval': '1',
  'projection.dt.interval.unit': 'DAYS',
};

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

describe('CohortRefresh Glue catalog', () => {
  it('creates the cohort_refresh database in the account catalog', () => {
    const { stack } = givenCohortRefresh();

    templateOf(stack).hasResourceProperties('AWS::Glue::Database', {
      CatalogId: { Ref: 'AWS::AccountId' },
      DatabaseInput: Match.objectLike({ Name: 'cohort_refresh' }),
    });
  });

  it('creates four tables, each after the database', () => {
    const { stack, cohortRefresh } = givenCohortRefresh();
    const template = templateOf(stack);

    template.resourceCountIs('AWS::Glue::Table', 4);
    template.allResources('AWS::Glue::Table', {
      DependsOn: [stack.getLogicalId(cohortRefresh.database)],
      Properties: Match.objectLike({ DatabaseName: 'cohort_refresh' }),
    });
  });

  it('reads JSON Lines events with the OpenX SerDe, ts as text, projected by dt', () => {
    const { stack, cohortRefresh } = givenCohortRefresh();

    templateOf(stack).hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'events_json',
        TableType: 'EXTERNAL_TABLE',
        PartitionKeys: [Match.objectLike({ Name: 'dt', Type: 'string' })],
        Parameters: Match.objectLike({
          ...DT_PROJECTION,
          'storage.location.template': s3Join(cohortRefresh.eventLakeBucket, '/events/dt=${dt}/'),
        }),
        StorageDescriptor: Match.objectLike({
          Location: s3Join(cohortRefresh.eventLakeBucket, '/events/'),
          InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          SerdeInfo: Match.objectLike({
            SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
            Parameters: Match.objectLike({ 'ignore.malformed.json': 'true' }),
          }),
          Columns: [
            ...EVENT_KEYS,
            Match.objectLike({ Name: 'ts', Type: 'string' }),
            Match.objectLike({ Name: 'properties', Type: 'string' }),
            Match.objectLike({ Name: 'value', Type: 'double' }),
          ],
        }),
      }),
    });
  });

  it('reads Parquet events with ts as a timestamp, projected by dt over the same folders', () => {
    const { stack, cohortRefresh } = givenCohortRefresh();

    templateOf(stack).hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'events_parquet',
        PartitionKeys: [Match.objectLike({ Name: 'dt', Type: 'string' })],
        Parameters: Match.objectLike({
          ...DT_PROJECTION,
          'storage.location.template': s3Join(cohortRefresh.eventLakeBucket, '/events/dt=${dt}/'),
        }),
        StorageDescriptor: Match.objectLike({
          InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          SerdeInfo: Match.objectLike({
            SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
          }),
          Columns: [
            ...EVENT_KEYS,
            Match.objectLike({ Name: 'ts', Type: 'timestamp' }),
            Match.objectLike({ Name: 'properties', Type: 'string' }),
            Match.objectLike({ Name: 'value', Type: 'double' }),
          ],
        }),
      }),
    });
  });

  it('reads the identity map as JSON from identities/', () => {
    const { stack, cohortRefresh } = givenCohortRefresh();

    templateOf(stack).hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'identities',
        StorageDescriptor: Match.objectLike({
          Location: s3Join(cohortRefresh.eventLakeBucket, '/identities/'),
          SerdeInfo: Match.objectLike({ SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' }),
          Columns: [
            Match.objectLike({ Name: 'source', Type: 'string' }),
            Match.objectLike({ Name: 'user_id', Type: 'string' }),
            Match.objectLike({ Name: 'person_id', Type: 'string' }),
          ],
        }),
      }),
    });
  });

  it('reads every snapshot version as cohort_members, projected by injected cohort and integer version', () => {
    const { stack, cohortRefresh } = givenCohortRefresh();

    templateOf(stack).hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'cohort_members',
        PartitionKeys: [
          Match.objectLike({ Name: 'cohort', Type: 'string' }),
          Match.objectLike({ Name: 'version', Type: 'int' }),
        ],
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.cohort.type': 'injected',
          'projection.version.type': 'integer',
          'projection.version.range': '1,1000000',
          'storage.location.template': s3Join(
            cohortRefresh.snapshotsBucket,
            '/snapshots/cohort=${cohort}/version=${version}/',
          ),
        }),
        StorageDescriptor: Match.objectLike({
          Location: s3Join(cohortRefresh.snapshotsBucket, '/snapshots/'),
          SerdeInfo: Match.objectLike({
            SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
          }),
          Columns: [Match.objectLike({ Name: 'person_id', Type: 'string' })],
        }),
      }),
    });
  });

  it('puts the lake prefix in front of events/ and identities/ of an existing lake bucket', () => {
    const { stack } = givenCohortRefresh((scope) => ({
      eventLakeBucket: s3.Bucket.fromBucketName(scope, 'Lake', 'company-event-lake'),
      eventLakePrefix: 'raw/cohorts/',
    }));
    const template = templateOf(stack);

    for (const name of ['events_json', 'events_parquet']) {
      template.hasResourceProperties('AWS::Glue::Table', {
        TableInput: Match.objectLike({
          Name: name,
          Parameters: Match.objectLike({
            'storage.location.template': 's3://company-event-lake/raw/cohorts/events/dt=${dt}/',
          }),
          StorageDescriptor: Match.objectLike({ Location: 's3://company-event-lake/raw/cohorts/events/' }),
        }),
      });
    }
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'identities',
        StorageDescriptor: Match.objectLike({ Location: 's3://company-event-lake/raw/cohorts/identities/' }),
      }),
    });
  });

  it('names the database as configured', () => {
    const { stack } = givenCohortRefresh({ databaseName: 'cohorts_staging' });
    const template = templateOf(stack);

    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: Match.objectLike({ Name: 'cohorts_staging' }) });
    template.allResourcesProperties('AWS::Glue::Table', { DatabaseName: 'cohorts_staging' });
  });
});
