import 'aws-sdk-client-mock-vitest/extend';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { serviceError } from '../cloud/support.ts';
import { definitionYaml, definitions, entries } from '../governance/support.ts';
import { cohorts, heldProject, projectFolders, tempDir } from '../support/cli.ts';
import { writeDefinitions } from '../support/lake.ts';
import { FakeAws, type FakeQuery } from '../workflow/fake-aws.ts';
import { PARQUET_EVENTS_MILLIS } from '../cloud/parquet-ts.ts';
import { MAX_ERROR_LINE_CHARS } from '../../shared/cli/main.ts';

const DEFINITIONS_BUCKET = 'cohorts-definitions';
const STATE_MACHINE_ARN = 'arn:aws:states:eu-central-1:111122223333:stateMachine:CohortRefresh';
const ENVIRONMENT = {
  DEFINITIONS_BUCKET,
  SNAPSHOTS_BUCKET: 'cohorts-snapshots',
  EVENT_LAKE_BUCKET: 'cohorts-lake',
  ATHENA_RESULTS_BUCKET: 'cohorts-results',
  ATHENA_WORKGROUP: 'cohort-refresh',
  GLUE_DATABASE: 'cohort_refresh',
  STATE_MACHINE_ARN,
  AWS_REGION: 'eu-central-1',
};

const WEEK = '  event: login\n  within: 7d';
const MONTH = '  event: login\n  within: 30d';
const PUBLISHED = {
  core_users: definitionYaml('core_users', { rule: WEEK }),
  side_users: definitionYaml('side_users', { tier: 'tactical', rule: '  not: {cohort: core_users}' }),
};
const WIDER = definitionYaml('core_users', { rule: MONTH, reason: 'A month shows regulars better.' });
const WIDER_HASH = definitions({ core_users: WIDER })[0]?.hash as string;

const aws = new FakeAws();
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const sfn = mockClient(SFNClient);

/** Athena's answer to the impact query: counts per measured cohort, in the order the plan measures them. */
let impactRow: Record<string, string> = {};
function answer(query: FakeQuery): void {
  if (!query.sql.startsWith('SELECT count_if(')) return;
  const columns = [...query.sql.matchAll(/AS "([a-z]+_\d+)"/g)].map((m) => m[1] as string);
  query.rows = [columns, columns.map((c) => impactRow[c] ?? '0')];
}

/** The deployment as the last refreshes left it: the published catalog under catalog/, a lake with partitions. */
function givenDeployment(live: Record<string, string> = PUBLISHED): void {
  for (const entry of entries(PUBLISHED).values())
    aws.put(DEFINITIONS_BUCKET, `catalog/cohort=${entry.cohort}/version=1.json`, JSON.stringify(entry));
  for (const [id, text] of Object.entries(live)) aws.put(DEFINITIONS_BUCKET, `${id}.yaml`, text);
  aws.put('cohorts-lake', 'events/dt=2024-05-30/part-0.parquet', PARQUET_EVENTS_MILLIS);
  aws.put('cohorts-lake', 'events/dt=2024-05-31/part-0.parquet', PARQUET_EVENTS_MILLIS);
  aws.answer = answer;
}

/** A config upload waiting for its approval beside the live config, as the upload function leaves it; returns its hash. */
function givenPendingConfig(live: string, upload: string, sections: readonly string[]): string {
  const hash = sha256(upload);
  aws.put(DEFINITIONS_BUCKET, 'cohorts.config.yaml', live);
  aws.put(DEFINITIONS_BUCKET, 'pending/cohorts.config.yaml.json', JSON.stringify({ hash, text: upload, base: sha256(live), sections }));
  return hash;
}

describe('plan, approve, reject and history against the cloud (--cloud)', () => {
  let root: string;
  let folders: string[];

  beforeAll(() => {
    for (const [key, value] of Object.entries(ENVIRONMENT)) vi.stubEnv(key, value);
  });
  afterAll(() => {
    vi.unstubAllEnvs();
  });

  beforeEach(async () => {
    aws.reset();
    sfn.reset();
    sfn.on(StartExecutionCommand).callsFake(({ name }) => ({
      executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`,
      startDate: new Date(),
    }));
    root = await tempDir();
    folders = ['--definitions', join(root, 'definitions'), '--state', join(root, 'state'), '--data', join(root, 'no-lake-here')];
    impactRow = {};
  });

  it('plan compares the working definitions with the bucket catalog and counts the members on Athena, in one query', async () => {
    // Prepare: a wider rule for core_users; side_users reads it.
    givenDeployment();
    await writeDefinitions(join(root, 'definitions'), { 'core_users.yaml': WIDER, 'side_users.yaml': PUBLISHED.side_users });
    impactRow = {
      after_0: '38',
      before_0: '19',
      added_0: '21',
      removed_0: '2',
      after_1: '13',
      before_1: '11',
      added_1: '3',
      removed_1: '1',
    };
    // Act
    const plan = await cohorts('plan', '--cloud', '--as-of', '2024-06-01T00:00:00Z', ...folders);
    // Assess
    const text = plan.stdout.join('\n');
    expect(plan.code).toBe(0);
    expect(text).toMatch(/~ core_users \(core, changed: rule, change_reason\)\s+needs approval/);
    expect(text).toContain('  - within: 7d');
    expect(text).toContain('  + within: 30d');
    expect(text).toContain('members on the current data: 19 -> 38 members (+21 -2, +100%)');
    expect(text).toContain('dependants: side_users (11 -> 13 members (+3 -1, +18.2%))');
    expect(text).toContain('more than guardrails.approval_size_change_pct (25%)');
    expect(text).toContain(`approve with: cohorts approve core_users --cloud --hash ${WIDER_HASH.slice(0, 12)} --by NAME --note WHY`);
    expect(text).toContain('Plan: 0 to add, 1 to change, 0 to deprecate, 0 to remove; 0 refused, 1 waiting for approval');
    // One Athena query in the refresh's workgroup, compiled in the Athena dialect over the Glue tables.
    expect(aws.athena).toHaveReceivedCommandTimes(StartQueryExecutionCommand, 1);
    expect(aws.athena).toHaveReceivedCommandWith(StartQueryExecutionCommand, { WorkGroup: 'cohort-refresh' });
    expect([...aws.queries.values()][0]?.sql).toContain('FROM "cohort_refresh"."events_parquet" WHERE listing = ');
    // A plan writes nothing but the manifests the lake tables read (lake-files/ of the results bucket).
    const written = aws.s3.commandCalls(PutObjectCommand).map((call) => `${call.args[0].input.Bucket}/${call.args[0].input.Key}`);
    expect(written).toHaveLength(2);
    for (const key of written)
      expect(key).toMatch(/^cohorts-results\/lake-files\/[0-9a-f]{32}\/events-parquet\/unit=millis\/dt=2024-05-3[01]\/files\.txt$/);
  });

  it("plan applies the guardrail settings of the bucket's cohorts.config.yaml, as the Plan step does", async () => {
    givenDeployment();
    aws.put(DEFINITIONS_BUCKET, 'cohorts.config.yaml', 'guardrails: {approval_size_change_pct: 150}\n');
    await writeDefinitions(join(root, 'definitions'), { 'core_users.yaml': WIDER, 'side_users.yaml': PUBLISHED.side_users });
    impactRow = { after_0: '38', before_0: '19', added_0: '21', removed_0: '2' };

    const plan = await cohorts('plan', '--cloud', '--as-of', '2024-06-01T00:00:00Z', ...folders);

    expect(plan.code).toBe(0);
    expect(plan.stdout.join('\n')).toMatch(/~ core_users \(core, changed: rule, change_reason\)\s+ok/);
    expect(plan.stdout.join('\n')).toContain('0 refused, 0 waiting for approval');
  });

  it('plan exits 1 when a guardrail refuses a change', async () => {
    givenDeployment();
    await writeDefinitions(join(root, 'definitions'), {
      'core_users.yaml': definitionYaml('core_users', { rule: MONTH }),
      'side_users.yaml': PUBLISHED.side_users,
    });
    impactRow = { after_0: '30', before_0: '29', added_0: '1', removed_0: '0' };

    const plan = await cohorts('plan', '--cloud', '--as-of', '2024-06-01T00:00:00Z', ...folders);

    expect(plan.code).toBe(1);
    expect(plan.stdout.join('\n')).toMatch(/~ core_users \(core, changed: rule\)\s+refused/);
    expect(plan.stdout.join('\n')).toContain('needs a new change_reason');
  });

  it('approve writes the decision object in the bucket catalog, then starts the refresh of the cohort and its dependants', async () => {
    // Prepare: the wider rule was uploaded and waits.
    givenDeployment({ ...PUBLISHED, core_users: WIDER });
    // Act
    const approved = await cohorts(
      'approve',
      'core_users',
      '--cloud',
      '--hash',
      WIDER_HASH.slice(0, 12),
      '--by',
      'dana',
      '--note',
      'Reviewed the new members.',
      ...folders,
    );
    // Assess
    expect(approved.code).toBe(0);
    expect(approved.stdout).toEqual([`core_users: definition ${WIDER_HASH.slice(0, 12)} approved by dana`]);
    const key = `catalog/decisions/cohort=core_users/${WIDER_HASH}.json`;
    expect(aws.s3).toHaveReceivedCommandWith(PutObjectCommand, { Bucket: DEFINITIONS_BUCKET, Key: key, IfNoneMatch: '*' });
    const decision = JSON.parse(aws.text(DEFINITIONS_BUCKET, key) as string) as Record<string, string>;
    expect(decision).toEqual({
      cohort: 'core_users',
      hash: WIDER_HASH,
      decision: 'approved',
      by: 'dana',
      note: 'Reviewed the new members.',
      at: expect.any(String),
    });
    expect(Math.abs(Date.parse(decision.at as string) - Date.now())).toBeLessThan(60_000);
    const name = `approval-${WIDER_HASH.slice(0, 16)}-core_users`;
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { stateMachineArn: STATE_MACHINE_ARN, name });
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input as string) as unknown;
    expect(input).toEqual({
      trigger: 'definition-change',
      cohorts: ['core_users', 'side_users'],
      rationale: 'A month shows regulars better.',
    });
    expect(approved.stderr.join('\n')).toContain(
      `started the refresh of core_users, side_users that applies it: arn:aws:states:eu-central-1:111122223333:execution:CohortRefresh:${name}`,
    );

    // A second decision on the same definition is refused, and starts nothing.
    const again = await cohorts('reject', 'core_users', '--cloud', '--by', 'eve', '--note', 'No.', ...folders);
    expect(again.code).toBe(2);
    expect(again.stderr.join('\n')).toContain('already approved by dana');
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
  });

  it('reject writes the rejection and starts no refresh', async () => {
    givenDeployment({ ...PUBLISHED, core_users: WIDER });

    const rejected = await cohorts('reject', 'core_users', '--cloud', '--by', 'dana', '--note', 'Too wide.', ...folders);

    expect(rejected.code).toBe(0);
    expect(JSON.parse(aws.text(DEFINITIONS_BUCKET, `catalog/decisions/cohort=core_users/${WIDER_HASH}.json`) as string)).toMatchObject({
      decision: 'rejected',
      by: 'dana',
      note: 'Too wide.',
    });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('refuses a decision on a definition that is not the one waiting, and on a cohort with nothing waiting', async () => {
    givenDeployment({ ...PUBLISHED, core_users: WIDER });

    const stale = await cohorts('approve', 'core_users', '--cloud', '--hash', '0123456789ab', '--by', 'dana', '--note', 'ok', ...folders);
    const nothing = await cohorts('approve', 'side_users', '--cloud', '--by', 'dana', '--note', 'ok', ...folders);

    expect(stale.code).toBe(2);
    expect(stale.stderr.join('\n')).toContain(
      `definition 0123456789ab of "core_users" is not the one waiting: s3://${DEFINITIONS_BUCKET}/core_users.yaml holds ${WIDER_HASH.slice(0, 12)} now`,
    );
    expect(nothing.stderr.join('\n')).toContain('nothing to approve: the definition of "side_users" is the published one');
    expect(aws.s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('keeps the approval when the refresh cannot start, and says how to start it', async () => {
    givenDeployment({ ...PUBLISHED, core_users: WIDER });
    sfn
      .on(StartExecutionCommand)
      .rejects(serviceError({ name: 'AccessDeniedException', status: 400, message: 'not authorized to perform states:StartExecution' }));

    const approved = await cohorts('approve', 'core_users', '--cloud', '--by', 'dana', '--note', 'ok', ...folders);

    expect(approved.code).toBe(1);
    const error = approved.stderr.join('\n');
    expect(error).toContain(`recorded the approval in s3://${DEFINITIONS_BUCKET}/catalog/decisions/cohort=core_users/${WIDER_HASH}.json`);
    expect(error).toContain('not authorized to perform states:StartExecution');
    expect(error).toContain(
      `aws stepfunctions start-execution --state-machine-arn ARN --name approval-${WIDER_HASH.slice(0, 16)}-core_users`,
    );
    expect(aws.text(DEFINITIONS_BUCKET, `catalog/decisions/cohort=core_users/${WIDER_HASH}.json`)).toBeDefined();
  });

  it("approve cohorts.config.yaml --cloud --hash records the decision and makes the waiting config upload the bucket's live config", async () => {
    // Prepare: a config upload that turns the approvals off waits beside the live config.
    givenDeployment();
    const live = 'guardrails: {approval_size_change_pct: 25}\n';
    const upload = 'guardrails: {approval_size_change_pct: 100000}\n';
    const hash = givenPendingConfig(live, upload, ['guardrails']);
    // Act
    const stale = await cohorts(
      'approve',
      'cohorts.config.yaml',
      '--cloud',
      '--hash',
      '0123456789ab',
      '--by',
      'dana',
      '--note',
      'ok',
      ...folders,
    );
    const approved = await cohorts(
      'approve',
      'cohorts.config.yaml',
      '--cloud',
      '--hash',
      hash.slice(0, 12),
      '--by',
      'dana',
      '--note',
      'Approvals move to the owners.',
      ...folders,
    );
    // Assess
    expect(stale.code).toBe(2);
    expect(stale.stderr.join('\n')).toContain(
      `config 0123456789ab is not the one waiting: a newer upload (${hash.slice(0, 12)}, changing guardrails) replaced it`,
    );
    expect(approved.code).toBe(0);
    expect(approved.stdout).toEqual([`cohorts.config.yaml: config ${hash.slice(0, 12)} (changing guardrails) approved by dana`]);
    const key = `catalog/decisions/cohort=cohorts.config.yaml/${hash}.json`;
    expect(aws.s3).toHaveReceivedCommandWith(PutObjectCommand, { Bucket: DEFINITIONS_BUCKET, Key: key, IfNoneMatch: '*' });
    expect(JSON.parse(aws.text(DEFINITIONS_BUCKET, key) as string)).toEqual({
      cohort: 'cohorts.config.yaml',
      hash,
      decision: 'approved',
      by: 'dana',
      note: 'Approvals move to the owners.',
      at: expect.any(String),
    });
    expect(aws.text(DEFINITIONS_BUCKET, 'cohorts.config.yaml')).toBe(upload);
    expect(approved.stderr.join('\n')).toContain(`s3://${DEFINITIONS_BUCKET}/cohorts.config.yaml is replaced: the next refresh uses it`);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it("reject cohorts.config.yaml --cloud records the rejection and leaves the bucket's live config", async () => {
    givenDeployment();
    const live = 'privacy:\n  suppression_list: privacy/suppressed.txt\n';
    const upload = 'privacy:\n  suppression_list: privacy/nobody.txt\n';
    const hash = givenPendingConfig(live, upload, ['privacy']);

    const rejected = await cohorts('reject', 'cohorts.config.yaml', '--cloud', '--by', 'dana', '--note', 'Opt-outs stay.', ...folders);
    const approved = await cohorts(
      'approve',
      'cohorts.config.yaml',
      '--cloud',
      '--hash',
      hash.slice(0, 12),
      '--by',
      'eve',
      '--note',
      'ok',
      ...folders,
    );

    expect(rejected.code).toBe(0);
    expect(JSON.parse(aws.text(DEFINITIONS_BUCKET, `catalog/decisions/cohort=cohorts.config.yaml/${hash}.json`) as string)).toMatchObject({
      decision: 'rejected',
      by: 'dana',
      note: 'Opt-outs stay.',
    });
    expect(approved.code).toBe(2);
    expect(approved.stderr.join('\n')).toContain('was rejected by dana');
    expect(aws.text(DEFINITIONS_BUCKET, 'cohorts.config.yaml')).toBe(live);
  });

  it('history reads the bucket catalog and the snapshots bucket', async () => {
    givenDeployment();

    const history = await cohorts('history', 'core_users', '--cloud', ...folders);

    expect(history.code).toBe(0);
    expect(history.stdout.join('\n')).toMatch(/definition versions:\n.*\nd1\s+2024-06-01T00:00:00.000Z\s+added\s+[0-9a-f]{12}/);
  });

  it('history of held versions points to the Athena query that compares them, not to cohorts diff, which reads local folders', async () => {
    // Prepare: two held versions of big_users refreshed locally, their snapshot files in the snapshots bucket.
    givenDeployment();
    const local = await heldProject();
    for (const asOf of ['2024-06-01T00:00:00Z', '2024-06-03T00:00:00Z']) await cohorts('run', '--as-of', asOf, ...projectFolders(local));
    const state = join(local, 'state');
    for (const file of await readdir(join(state, 'snapshots'), { recursive: true }))
      if ((await stat(join(state, 'snapshots', file))).isFile())
        aws.put('cohorts-snapshots', `snapshots/${file}`, await readFile(join(state, 'snapshots', file)));
    // Act
    const history = await cohorts('history', 'big_users', '--cloud', ...folders);
    // Assess
    const text = history.stdout.join('\n');
    expect(history.code).toBe(0);
    expect(text).toMatch(/^v2\s+2024-06-03T00:00:00.000Z\s+held\s/m);
    expect(text).not.toContain('cohorts diff big_users');
    const pinned = (version: number) =>
      `SELECT person_id FROM cohort_members WHERE cohort = 'big_users' AND version = ${version} ` +
      `AND "$path" = 's3://cohorts-snapshots/snapshots/cohort=big_users/version=${version}/members.parquet'`;
    expect(text).toContain(
      'so held versions are not compared with each other; `cohorts diff` reads local folders only; ' +
        'in Athena (workgroup cohort-refresh, database cohort_refresh) this lists who entered from v1 to v2 (swap the versions for who exited):\n' +
        `  ${pinned(2)}\n  EXCEPT ${pinned(1)}`,
    );
  });
});

describe('the deployment names --cloud needs', () => {
  afterAll(() => {
    vi.unstubAllEnvs();
  });

  it('are each named with the stack output that gives them when missing or malformed', async () => {
    for (const key of Object.keys(ENVIRONMENT)) vi.stubEnv(key, undefined);
    vi.stubEnv('SNAPSHOTS_BUCKET', 'Not A Bucket');

    const plan = await cohorts('plan', '--cloud');
    const approve = await cohorts('approve', 'core_users', '--cloud', '--by', 'dana', '--note', 'ok');

    expect(plan.code).toBe(2);
    const error = plan.stderr.join('\n');
    expect(error).toContain('DEFINITIONS_BUCKET (stack output DefinitionsBucketName): missing');
    expect(error).toContain('SNAPSHOTS_BUCKET (stack output SnapshotsBucketName): must be an S3 bucket name');
    expect(error).toContain('ATHENA_RESULTS_BUCKET (stack output AthenaResultsBucketName): missing');
    expect(error).toContain('--stack-outputs FILE');
    // Each on its own line, none cut at the end of an error line: the remedy is read whole.
    expect(error.split('\n').filter((line) => line.length > MAX_ERROR_LINE_CHARS)).toEqual([]);
    expect(error.split('\n')).toContain('  ATHENA_RESULTS_BUCKET (stack output AthenaResultsBucketName): missing');
    expect(error).not.toContain('STATE_MACHINE_ARN');
    expect(approve.stderr.join('\n')).toContain('STATE_MACHINE_ARN (stack output StateMachineArn): missing');
  });

  it('are read from the stack outputs describe-stacks prints, the environment winning', async () => {
    for (const key of Object.keys(ENVIRONMENT)) vi.stubEnv(key, undefined);
    vi.stubEnv('ATHENA_WORKGROUP', 'from-env');
    const root = await tempDir();
    const outputs = join(root, 'outputs.json');
    const output = (OutputKey: string, OutputValue: string) => ({ OutputKey, OutputValue, Description: 'x' });
    await writeFile(
      outputs,
      JSON.stringify([
        output('DefinitionsBucketName', 'defs-bucket'),
        output('SnapshotsBucketName', 'snaps-bucket'),
        output('EventLakeBucketName', 'lake-bucket'),
        output('AthenaResultsBucketName', 'results-bucket'),
        output('WorkGroupName', 'from-outputs'),
        output('DatabaseName', 'cohort_refresh'),
      ]),
    );
    const { readCloudDeployment } = await import('../../shared/cli/cloud-deployment.ts');

    const deployment = await readCloudDeployment({ stackOutputs: outputs, env: { ATHENA_WORKGROUP: 'from-env' } });
    const withoutArn = readCloudDeployment({ stackOutputs: outputs, env: {}, needs: ['STATE_MACHINE_ARN'] });
    const notJson = cohorts('plan', '--cloud', '--stack-outputs', join(root, 'missing.json'));

    expect(deployment).toMatchObject({
      DEFINITIONS_BUCKET: 'defs-bucket',
      SNAPSHOTS_BUCKET: 'snaps-bucket',
      EVENT_LAKE_BUCKET: 'lake-bucket',
      EVENT_LAKE_PREFIX: '',
      ATHENA_RESULTS_BUCKET: 'results-bucket',
      ATHENA_WORKGROUP: 'from-env',
      GLUE_DATABASE: 'cohort_refresh',
    });
    await expect(withoutArn).rejects.toThrow('STATE_MACHINE_ARN (stack output StateMachineArn): missing');
    // A missing file is said in words, not as node's "ENOENT: no such file or directory, open ...".
    const missing = (await notJson).stderr.join('\n');
    expect(missing).toContain(`--stack-outputs ${join(root, 'missing.json')}: no such file; set them as environment variables`);
    expect(missing).not.toContain('ENOENT');
  });

  it('--cloud is refused on commands that do not take it', async () => {
    const run = await cohorts('run', '--cloud');

    expect(run.stderr.join('\n')).toContain('--cloud does not apply to run (history, plan, approve, reject, doctor take it)');
  });
});
