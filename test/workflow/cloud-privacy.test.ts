import 'aws-sdk-client-mock-vitest/extend';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CohortOutcome } from '../../shared/engine/snapshot-cohort.ts';
import type { ErasureRecord } from '../../shared/privacy/erasure-records.ts';
import { personHash, saltFingerprint } from '../../shared/privacy/person-hash.ts';
import type { Manifest } from '../../shared/store/manifest.ts';
import { ParquetMembersCodec } from '../../shared/store/parquet-members-codec.ts';
import type { Delivery, WorkflowPlan, WorkflowSummary } from '../../shared/workflow/types.ts';
import { FakeAws } from './fake-aws.ts';
import { EVALUATION, givenDeployment, type Handler, loadHandlers, planEvent, RUN, TILES } from './handler-support.ts';

const aws = new FakeAws();
/** Step Functions runs no other execution: Plan carries deletion requests out only then. */
const sfn = mockClient(SFNClient);
let handlers: Record<string, Handler> = {};
const codec = new ParquetMembersCodec();
const SNAPSHOTS = 'cohorts-snapshots';
const EXPORTS = 'cohorts-exports';
const V1 = 'snapshots/cohort=payers/version=1/';

const plan = async () => ((await handlers.Plan!(planEvent)) as { plan: WorkflowPlan }).plan;
const snapshot = async (planned: WorkflowPlan) =>
  (await handlers.Snapshot?.({ plan: planned, cohort: 'payers', evaluation: EVALUATION, tiles: TILES })) as CohortOutcome;
/** Deliver as the state machine calls it: the outcome, the run id and the plan's config. */
const deliver = async (planned: WorkflowPlan, outcome: CohortOutcome) =>
  (await handlers.Deliver?.({ outcome, run_id: RUN, config: planned.config })) as Delivery;
const membersIn = async (bucket: string, key: string) => codec.decode(aws.buckets.get(bucket)?.get(key)?.body as Uint8Array);
/** Whether an object holds an id: in its bytes, or decoded when it is a Parquet person list. */
const holds = async (bucket: string, key: string, id: string) => {
  const body = aws.buckets.get(bucket)?.get(key)?.body as Uint8Array;
  if (Buffer.from(body).includes(id)) return true;
  return key.endsWith('.parquet') && (await codec.decode(body)).includes(id);
};
const json = <T>(bucket: string, key: string) => JSON.parse(aws.text(bucket, key) as string) as T;

/** One whole run (Plan, Snapshot, Deliver) of payers: ann, bob and cid. */
async function givenPublishedVersion() {
  const planned = await plan();
  const outcome = await snapshot(planned);
  const delivery = await deliver(planned, outcome);
  return { planned, outcome, delivery };
}

describe('the privacy rules in the Lambda steps', () => {
  beforeAll(async () => {
    handlers = await loadHandlers();
  });

  beforeEach(() => {
    aws.reset();
    givenDeployment(aws);
    sfn.reset();
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });
  });

  it('leave a person on the configured suppression list out of the version, counted in lineage, and out of every export', async () => {
    // Prepare: the config names the list; it sits in the snapshots bucket.
    aws.put('cohorts-definitions', 'cohorts.config.yaml', 'privacy:\n  suppression_list: privacy/optouts.txt\n');
    aws.put(SNAPSHOTS, 'privacy/optouts.txt', '# opt-outs\nbob\n');
    // Act
    const planned = await plan();
    const outcome = await snapshot(planned);
    aws.put(SNAPSHOTS, 'privacy/optouts.txt', 'bob\ncid\n'); // listed after the snapshot, before delivery
    const delivery = await deliver(planned, outcome);
    // Assess
    expect(outcome).toMatchObject({ status: 'published', size: 2, entered: 2 });
    expect(aws.s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: SNAPSHOTS, Key: 'privacy/optouts.txt' });
    expect(await membersIn(SNAPSHOTS, `${V1}members.parquet`)).toEqual(['ann', 'cid']);
    expect(json<Manifest>(SNAPSHOTS, `${V1}manifest.json`).lineage.privacy).toEqual({ suppressed: 1, forgotten: 0 });
    expect(delivery.event).toBe('Cohort Refreshed');
    expect(aws.text(EXPORTS, 'exports/cohort=payers/version=1/members.csv')).toBe('person_id\nann\n');
    expect(aws.text(EXPORTS, 'exports/cohort=payers/version=1/entered.csv')).toBe('person_id\nann\n');
    expect(await membersIn(EXPORTS, 'exports/cohort=payers/version=1/members.parquet')).toEqual(['ann']);
  });

  it('carry out a deletion request object in Plan: versions and exports rewritten, an audit record with hashes, no raw id left', async () => {
    // Prepare
    await givenPublishedVersion();
    aws.put(SNAPSHOTS, 'privacy/deletion-requests/ticket-4711.json', '{"person_id": "bob"}');
    // Act
    await plan();
    // Assess: the version rewritten in place, and a new published version without bob.
    expect(await membersIn(SNAPSHOTS, `${V1}members.parquet`)).toEqual(['ann', 'cid']);
    expect(json<Manifest>(SNAPSHOTS, `${V1}manifest.json`)).toMatchObject({ size: 2, entered: 2, erasure: { removed: 1, requests: 1 } });
    expect(json<Manifest>(SNAPSHOTS, 'snapshots/cohort=payers/version=2/manifest.json')).toMatchObject({
      trigger: 'erasure',
      size: 2,
      previous_version: 1,
    });
    expect(aws.text(SNAPSHOTS, 'snapshots/cohort=payers/current.json')).toBe('{"version":2}\n');
    // The exports rewritten, latest.json's counts too.
    expect(aws.text(EXPORTS, 'exports/cohort=payers/version=1/members.csv')).toBe('person_id\nann\ncid\n');
    expect(await membersIn(EXPORTS, 'exports/cohort=payers/version=1/members.parquet')).toEqual(['ann', 'cid']);
    expect(json<{ size: number; entered: number }>(EXPORTS, 'exports/cohort=payers/latest.json')).toMatchObject({ size: 2, entered: 2 });
    // The audit record keeps the salted hash; the request keeps only the record's name.
    const key = aws.privacyKey.split('\n')[0] as string;
    const hash = personHash(key, 'bob');
    const record = json<ErasureRecord>(SNAPSHOTS, `privacy/erasures/${hash}.json`);
    expect(aws.keys(SNAPSHOTS)).not.toContain('privacy/salt');
    expect(record).toMatchObject({
      person_hashes: [hash],
      salt_fingerprint: saltFingerprint(key),
      source: 'deletion-request:privacy/deletion-requests/ticket-4711.json',
    });
    expect(record.completed_at).not.toBeNull();
    expect(json<Record<string, unknown>>(SNAPSHOTS, 'privacy/deletion-requests/ticket-4711.json')).toEqual({
      processed_at: expect.any(String),
      erasure_records: [hash.slice(0, 12)],
    });
    // Nothing the refresh keeps names bob any more (Athena's own result files expire by lifecycle).
    for (const bucket of [SNAPSHOTS, EXPORTS, 'cohorts-definitions']) {
      for (const key of aws.keys(bucket))
        expect(Buffer.from(aws.buckets.get(bucket)?.get(key)?.body as Uint8Array).includes('bob'), `${bucket}/${key}`).toBe(false);
    }
  });

  it("carry out a deletion request in the uploaded lists of the definitions bucket: the person's lines go, every other byte stays", async () => {
    // Prepare: a list holding bob, padded, beside others (BOB, without an @, is someone else)
    await givenPublishedVersion();
    aws.put('cohorts-definitions', 'lists/vips.csv', 'ann\r\nBOB\r\ncid\n\t bob \r\n');
    aws.put('cohorts-definitions', 'lists/other.csv', 'ann\n');
    aws.put(SNAPSHOTS, 'privacy/deletion-requests/ticket-4712.json', '{"person_id": "bob"}');
    // Act
    await plan();
    // Assess: only bob's line left the list; the other list is untouched; the record counts it
    expect(aws.text('cohorts-definitions', 'lists/vips.csv')).toBe('ann\r\nBOB\r\ncid\n');
    expect(aws.text('cohorts-definitions', 'lists/other.csv')).toBe('ann\n');
    const hash = personHash(aws.privacyKey.split('\n')[0] as string, 'bob');
    expect(json<ErasureRecord>(SNAPSHOTS, `privacy/erasures/${hash}.json`).rewritten.lists).toBe(1);
  });

  it("name an uploaded list that still holds a forgotten person in Finish's alert", async () => {
    // Prepare: bob forgotten, then a list uploaded again with him
    await givenPublishedVersion();
    aws.put(SNAPSHOTS, 'privacy/deletion-requests/ticket-4713.json', '{"person_id": "bob"}');
    const planned = await plan();
    aws.put('cohorts-definitions', 'lists/vips.csv', 'ann\nbob\n');
    // Act
    await handlers.Finish?.({
      plan: planned,
      evaluation: EVALUATION,
      tiles: TILES,
      snapshots: [],
      deliveries: [],
      started_at: '2024-06-01T00:00:00Z',
    });
    // Assess
    const message = String(aws.sns.commandCalls(PublishCommand).at(-1)?.args[0].input.Message);
    expect(message).toContain('s3://cohorts-definitions/lists/vips.csv holds a forgotten person');
    expect(message).not.toContain('bob');
  });

  it('carry out a deletion request over every object: a version started and never completed, any person list in the exports bucket', async () => {
    // Prepare: a Snapshot that died before its manifest left version 2's lists; an extra copy in the exports bucket
    await givenPublishedVersion();
    const lists = await codec.encode(['ann', 'bob', 'cid']);
    aws.put(SNAPSHOTS, 'snapshots/cohort=payers/version=2/members.parquet', lists);
    aws.put(SNAPSHOTS, 'snapshots/cohort=payers/version=2/holdout.parquet', await codec.encode(['bob']));
    aws.put(EXPORTS, 'exports/cohort=payers/copies/members-backup.parquet', lists);
    aws.put(EXPORTS, 'exports/cohort=payers/notes.csv', 'person_id,note\nbob,called\nann,mailed\n');
    aws.put(EXPORTS, 'exports/cohort=payers/call-log.json', '{"note": "bob called"}');
    aws.put(SNAPSHOTS, 'privacy/deletion-requests/ticket-4712.json', '{"person_id": "bob"}');
    // Act
    await plan();
    // Assess: rewritten in place (the functions may not delete), never completed, and no object names bob
    expect(await membersIn(SNAPSHOTS, 'snapshots/cohort=payers/version=2/members.parquet')).toEqual(['ann', 'cid']);
    expect(await membersIn(SNAPSHOTS, 'snapshots/cohort=payers/version=2/holdout.parquet')).toEqual([]);
    expect(aws.keys(SNAPSHOTS)).not.toContain('snapshots/cohort=payers/version=2/manifest.json');
    expect(await membersIn(EXPORTS, 'exports/cohort=payers/copies/members-backup.parquet')).toEqual(['ann', 'cid']);
    expect(aws.text(EXPORTS, 'exports/cohort=payers/notes.csv')).toBe('person_id,note\nann,mailed\n');
    for (const bucket of [SNAPSHOTS, EXPORTS]) {
      for (const key of aws.keys(bucket))
        expect(await holds(bucket, key, 'bob'), `${bucket}/${key}`).toBe(key === 'exports/cohort=payers/call-log.json');
    }
    // What erasure cannot rewrite is named in the record, for every later privacy check (and the run's alert)
    const key = aws.privacyKey.split('\n')[0] as string;
    expect(json<ErasureRecord>(SNAPSHOTS, `privacy/erasures/${personHash(key, 'bob')}.json`).left_files).toEqual([
      'exports/cohort=payers/call-log.json',
    ]);
  });

  it('hash with the key of the privacy key secret, never a key in the bucket, and recognise records of an older key kept on its second line', async () => {
    // Prepare: a record made with a salt once kept at privacy/salt, moved into the secret as an older key
    const [key, OLD] = aws.privacyKey.split('\n') as [string, string];
    const { planned, outcome } = await givenPublishedVersion();
    aws.put(SNAPSHOTS, 'privacy/deletion-requests/a.txt', 'bob\n');
    await plan();
    const old: ErasureRecord = {
      ...json<ErasureRecord>(SNAPSHOTS, `privacy/erasures/${personHash(key, 'bob')}.json`),
      person_hashes: [personHash(OLD, 'cid')],
      salt_fingerprint: saltFingerprint(OLD),
    };
    aws.put(SNAPSHOTS, `privacy/erasures/${personHash(OLD, 'cid')}.json`, JSON.stringify(old));
    // Act: version 1 delivered again, screened
    await deliver(planned, outcome);
    // Assess: bob (erased with the key) and cid (a record of the older key) are left out; only the secret was read for keys
    expect(aws.text(EXPORTS, 'exports/cohort=payers/version=1/members.csv')).toBe('person_id\nann\n');
    expect(aws.secrets).toHaveReceivedCommandWith(GetSecretValueCommand, {
      SecretId: 'arn:aws:secretsmanager:eu-central-1:111122223333:secret:cohorts-privacy-key-AbCdEf',
    });
    expect(aws.s3).not.toHaveReceivedCommandWith(GetObjectCommand, { Bucket: SNAPSHOTS, Key: 'privacy/salt' });
  });

  it("report the privacy check's findings in Finish's alert", async () => {
    // Prepare: bob is listed after his version was published and exported.
    const { planned, outcome, delivery } = await givenPublishedVersion();
    aws.put(SNAPSHOTS, 'privacy/suppressed.txt', 'bob\n');
    // Act
    const summary = (await handlers.Finish?.({
      plan: planned,
      evaluation: EVALUATION,
      tiles: TILES,
      snapshots: [outcome],
      deliveries: [delivery],
      started_at: '2024-06-01T00:00:00Z',
    })) as WorkflowSummary;
    // Assess
    expect(summary.alert).toBe('warn');
    const message = aws.sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(message).toContain('Privacy check (1 versions, ');
    expect(message).toContain(`suppressed: s3://${SNAPSHOTS}/${V1}members.parquet holds 1 suppressed person`);
    expect(message).toContain(`s3://${EXPORTS}/exports/cohort=payers/version=1/members.csv`);
    expect(message).not.toContain('bob');
  });
});
