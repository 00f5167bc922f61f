import type { Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import type { CohortFoundation } from '../../infra/foundation/cohort-foundation.ts';
import { arnOf, givenFoundation, type PropsOrFactory, templateOf } from './support.ts';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

function statementsOf(template: Template): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (policy) => policy.Properties.PolicyDocument.Statement as Statement[],
  );
}

function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

function resourcesOf(statement: Statement): unknown[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

/** A role in the test stack, given one grant helper. */
function givenGrant(grant: (c: CohortFoundation, role: iam.Role) => void, props: PropsOrFactory = {}) {
  const { stack, foundation } = givenFoundation(props);
  const role = new iam.Role(stack, 'Refresh', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  grant(foundation, role);
  return { stack, foundation, template: templateOf(stack) };
}

const HELPERS: [string, (c: CohortFoundation, role: iam.Role) => void][] = [
  ['grantReadDefinitions', (c, r) => c.grantReadDefinitions(r)],
  ['grantWriteDefinitions', (c, r) => c.grantWriteDefinitions(r)],
  ['grantWriteDefinitionCatalog', (c, r) => c.grantWriteDefinitionCatalog(r)],
  ['grantReadSnapshots', (c, r) => c.grantReadSnapshots(r)],
  ['grantWriteSnapshots', (c, r) => c.grantWriteSnapshots(r)],
  ['grantReadPrivacy', (c, r) => c.grantReadPrivacy(r)],
  ['grantWritePrivacy', (c, r) => c.grantWritePrivacy(r)],
  ['grantRequestDeletion', (c, r) => c.grantRequestDeletion(r)],
  ['grantReadExports', (c, r) => c.grantReadExports(r)],
  ['grantWriteExports', (c, r) => c.grantWriteExports(r)],
  ['grantQueryLake', (c, r) => c.grantQueryLake(r)],
  ['grantPublishAlerts', (c, r) => c.grantPublishAlerts(r)],
  ['grantDeleteQueryResults', (c, r) => c.grantDeleteQueryResults(r)],
  ['grantCheckDeployment', (c, r) => c.grantCheckDeployment(r)],
  ['grantPlan', (c, r) => c.grantPlan(r)],
  ['grantReadTiles', (c, r) => c.grantReadTiles(r)],
  ['grantWriteTiles', (c, r) => c.grantWriteTiles(r)],
  ['grantTileLease', (c, r) => c.grantTileLease(r)],
];

describe('CohortFoundation grant helpers', () => {
  it.each(HELPERS)('%s allows named actions only, never a wildcard action or resource', (_, grant) => {
    // GIVEN / WHEN
    const { template } = givenGrant(grant);
    const statements = statementsOf(template);
    // THEN
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect(statement.Effect).toBe('Allow');
      for (const action of actionsOf(statement)) expect(action).not.toContain('*');
      expect(resourcesOf(statement)).not.toContain('*');
    }
  });

  it('grantQueryLake scopes Athena to the workgroup and Glue to the catalog, database and its tables', () => {
    const { stack, foundation, template } = givenGrant((c, r) => c.grantQueryLake(r));
    const statements = statementsOf(template);
    const withAction = (prefix: string) => statements.filter((s) => actionsOf(s).some((a) => a.startsWith(prefix)));

    const athena = withAction('athena:');
    expect(athena).toHaveLength(1);
    expect(resourcesOf(athena[0]!)).toEqual([stack.resolve(foundation.queryWorkGroup.workGroupArn)]);
    expect(actionsOf(athena[0]!)).toEqual(
      expect.arrayContaining(['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults']),
    );

    const glue = withAction('glue:');
    expect(glue).toHaveLength(1);
    const glueResources = JSON.stringify(resourcesOf(glue[0]!));
    expect(glueResources).toContain(':catalog');
    expect(glueResources).toContain(':database/cohort_refresh');
    for (const table of ['events_jsonl', 'events_parquet', 'identities_jsonl', 'identities_parquet', 'cohort_members', 'lists']) {
      expect(glueResources).toContain(`:table/cohort_refresh/${table}`);
    }
    expect(resourcesOf(glue[0]!)).toHaveLength(8);
  });

  it('grantQueryLake reads the lake and snapshots and writes results only under results/', () => {
    const { template } = givenGrant((c, r) => c.grantQueryLake(r), { eventLakePrefix: 'raw/' });
    const statements = statementsOf(template);

    const puts = statements.filter((s) => actionsOf(s).includes('s3:PutObject'));
    expect(puts).toHaveLength(1);
    expect(JSON.stringify(puts[0]!.Resource)).toContain('/results/*');

    const gets = JSON.stringify(statements.filter((s) => actionsOf(s).includes('s3:GetObject')).map((s) => s.Resource));
    // lake-files/: the manifests Athena reads the lake tables through.
    for (const key of ['/raw/events/*', '/raw/identities/*', '/snapshots/*', '/results/*', '/lake-files/*']) expect(gets).toContain(key);
  });

  it('grantPlan reads the uploaded lists (lists/ of the definitions bucket and the Glue table lists) and writes no definition', () => {
    const { stack, foundation, template } = givenGrant((c, r) => c.grantPlan(r));
    const statements = statementsOf(template);
    const resolved = (value: unknown) => JSON.stringify(stack.resolve(value));

    const gets = statements.filter((s) => actionsOf(s).includes('s3:GetObject')).flatMap(resourcesOf);
    const readable = gets.map((resource) => JSON.stringify(resource));
    // lists/<name>.csv of the definitions bucket, which a list cohort's query reads through Athena, with the catalog beside it.
    expect(readable).toContain(resolved(foundation.definitionsBucket.arnForObjects('*')));
    const glue = JSON.stringify(statements.filter((s) => actionsOf(s).includes('glue:GetTable')).flatMap(resourcesOf));
    expect(glue).toContain(':table/cohort_refresh/lists');

    const puts = statements.filter((s) => actionsOf(s).includes('s3:PutObject')).flatMap(resourcesOf);
    expect(puts.map((resource) => JSON.stringify(resource))).toEqual(
      expect.arrayContaining([expect.stringContaining('/results/*'), expect.stringContaining('/lake-files/*')]),
    );
    expect(JSON.stringify(puts)).not.toContain(resolved(foundation.definitionsBucket.bucketArn).slice(1, -1));
    expect(statements.flatMap(actionsOf)).not.toContain('s3:DeleteObject');
  });

  it('grantWriteLakeFiles writes only under lake-files/ of the results bucket, and nowhere in the lake', () => {
    const { stack, foundation, template } = givenGrant((c, r) => c.grantWriteLakeFiles(r));
    const statements = statementsOf(template);

    const puts = statements.filter((s) => actionsOf(s).includes('s3:PutObject'));
    expect(puts).toHaveLength(1);
    expect(JSON.stringify(puts[0]!.Resource)).toContain('/lake-files/*');
    expect(JSON.stringify(puts[0]!.Resource)).toContain(
      JSON.stringify(stack.resolve(foundation.athenaResultsBucket.bucketArn)).slice(1, -1),
    );
    expect(statements.flatMap(actionsOf)).not.toContain('s3:DeleteObject');
  });

  it('grantQueryLake decrypts with the key of an existing SSE-KMS lake', () => {
    const { template } = givenGrant(
      (c, r) => c.grantQueryLake(r),
      (scope: Stack) => ({
        eventLakeBucket: s3.Bucket.fromBucketAttributes(scope, 'Lake', {
          bucketName: 'company-event-lake',
          encryptionKey: kms.Key.fromKeyArn(scope, 'LakeKey', 'arn:aws:kms:eu-west-1:111122223333:key/lake'),
        }),
      }),
    );

    const decrypts = statementsOf(template).filter((s) => actionsOf(s).includes('kms:Decrypt'));
    expect(decrypts.flatMap(resourcesOf)).toContain('arn:aws:kms:eu-west-1:111122223333:key/lake');
  });

  it('grantPublishAlerts allows sns:Publish on the topic and data keys of its key only', () => {
    const { foundation, template } = givenGrant((c, r) => c.grantPublishAlerts(r));
    const statements = statementsOf(template);

    expect(statements).toContainEqual(expect.objectContaining({ Action: 'sns:Publish', Resource: { Ref: expect.any(String) } }));
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: arnOf(foundation.alertsKey) }),
    );
  });

  it('grantReadPrivacy and grantWritePrivacy reach privacy/ of the snapshots bucket only, never deleting', () => {
    for (const [grant, writes] of [
      [(c: CohortFoundation, r: iam.Role) => c.grantReadPrivacy(r), false],
      [(c: CohortFoundation, r: iam.Role) => c.grantWritePrivacy(r), true],
    ] as const) {
      const { foundation, template } = givenGrant(grant);
      const statements = statementsOf(template);
      const objects = (action: string) => statements.filter((s) => actionsOf(s).includes(action)).flatMap(resourcesOf);
      const privacyKeys = { 'Fn::Join': ['', [arnOf(foundation.snapshotsBucket), '/privacy/*']] };
      expect(objects('s3:GetObject')).toEqual([privacyKeys]);
      expect(objects('s3:PutObject')).toEqual(writes ? [privacyKeys] : []);
      expect(statements.flatMap(actionsOf).filter((a) => /Delete/.test(a))).toEqual([]);
    }
  });

  it('grantRequestDeletion lets the grantee drop deletion requests and read nothing', () => {
    const { foundation, template } = givenGrant((c, r) => c.grantRequestDeletion(r));
    const statements = statementsOf(template);

    const s3Actions = statements.flatMap(actionsOf).filter((a) => a.startsWith('s3:'));
    expect(s3Actions.sort()).toEqual(['s3:AbortMultipartUpload', 's3:PutObject']);
    const puts = statements.filter((s) => actionsOf(s).includes('s3:PutObject')).flatMap(resourcesOf);
    expect(puts).toEqual([{ 'Fn::Join': ['', [arnOf(foundation.snapshotsBucket), '/privacy/deletion-requests/*']] }]);
  });

  it('grantDeleteQueryResults deletes objects under results/ of the results bucket and nothing else', () => {
    const { stack, foundation, template } = givenGrant((c, r) => c.grantDeleteQueryResults(r));

    expect(statementsOf(template)).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:DeleteObject',
        Resource: { 'Fn::Join': ['', [stack.resolve(foundation.athenaResultsBucket.bucketArn), '/results/*']] },
      },
    ]);
  });

  it('grantCheckDeployment (cohorts doctor) writes and deletes only doctor/ and lake-files/ of the results bucket, and deletes query results', () => {
    const { stack, foundation, template } = givenGrant((c, r) => c.grantCheckDeployment(r));
    const statements = statementsOf(template);
    const results = stack.resolve(foundation.athenaResultsBucket.bucketArn);
    const objects = (action: string) => statements.filter((s) => actionsOf(s).includes(action)).flatMap(resourcesOf);
    const under = (prefix: string) => ({ 'Fn::Join': ['', [results, `/${prefix}*`]] });

    expect(objects('s3:DeleteObject')).toEqual([under('doctor/'), under('lake-files/'), under('results/')]);
    expect(objects('s3:PutObject')).toEqual(expect.arrayContaining([under('doctor/'), under('lake-files/'), under('results/')]));
    expect(objects('s3:PutObject')).toHaveLength(3);
    expect(JSON.stringify(objects('s3:GetObject'))).toContain('/doctor/*');
    // Athena in the workgroup, as for any query of the lake.
    expect(statements.flatMap(actionsOf)).toContain('athena:StartQueryExecution');
  });

  it('grantReadTiles reads tiles/ of the snapshots bucket and the three tile tables, and writes nothing', () => {
    const { stack, foundation, template } = givenGrant((c, r) => c.grantReadTiles(r));
    const statements = statementsOf(template);

    const gets = statements.filter((s) => actionsOf(s).includes('s3:GetObject'));
    expect(gets.map((s) => s.Resource)).toEqual([{ 'Fn::Join': ['', [stack.resolve(foundation.snapshotsBucket.bucketArn), '/tiles/*']] }]);
    const glue = JSON.stringify(statements.filter((s) => actionsOf(s).includes('glue:GetTable')).map((s) => s.Resource));
    for (const table of ['cohort_refresh/tiles"', 'cohort_refresh/tiles_contested"', 'cohort_refresh/tiles_population"'])
      expect(glue).toContain(table);
    expect(glue).not.toContain('events_jsonl');
    for (const action of statements.flatMap(actionsOf)) expect(action).not.toMatch(/Put|Delete|Create|Update/);
  });

  it('grantWriteTiles writes and deletes under tiles/ only and registers partitions of the tile tables only', () => {
    const { template } = givenGrant((c, r) => c.grantWriteTiles(r));
    const statements = statementsOf(template);

    for (const action of ['s3:PutObject', 's3:DeleteObject']) {
      const writes = statements.filter((s) => actionsOf(s).includes(action));
      expect(writes).toHaveLength(1);
      expect(JSON.stringify(writes[0]!.Resource)).toContain('"/tiles/*"');
      expect(JSON.stringify(writes[0]!.Resource)).not.toContain('snapshots/');
    }
    const partitions = statements.filter((s) => actionsOf(s).includes('glue:BatchCreatePartition'));
    expect(partitions).toHaveLength(1);
    expect(JSON.stringify(partitions[0]!.Resource)).toContain('cohort_refresh/tiles"');
    expect(JSON.stringify(partitions[0]!.Resource)).toContain('cohort_refresh/tiles_ids"');
    expect(JSON.stringify(partitions[0]!.Resource)).not.toContain('events_');
    expect(statements.flatMap(actionsOf)).not.toContain('glue:CreateTable');
  });

  it('grantTileLease reads and writes the tile store’s lease (tiles/lease.json) only, and deletes nothing', () => {
    const { stack, foundation, template } = givenGrant((c, r) => c.grantTileLease(r));
    const statements = statementsOf(template);
    const lease = { 'Fn::Join': ['', [stack.resolve(foundation.snapshotsBucket.bucketArn), '/tiles/lease.json']] };

    for (const action of ['s3:GetObject', 's3:PutObject']) {
      expect(statements.filter((s) => actionsOf(s).includes(action)).flatMap(resourcesOf)).toEqual([lease]);
    }
    expect(statements.flatMap(actionsOf).filter((a) => a.includes('Delete'))).toEqual([]);
  });

  it('grantWriteSnapshots never allows deleting a version', () => {
    const { template } = givenGrant((c, r) => c.grantWriteSnapshots(r));

    for (const statement of statementsOf(template)) {
      for (const action of actionsOf(statement)) expect(action).not.toMatch(/Delete/);
    }
  });
});
