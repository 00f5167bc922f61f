import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../shared/cloud/s3-blob-store.ts';
import { ConcurrentUpdateError } from '../../shared/ports.ts';
import { ParquetMembersCodec } from '../../shared/store/parquet-members-codec.ts';
import { CurrentMovedError, SnapshotStore } from '../../shared/store/snapshot-store.ts';
import { objectBody, serviceError } from './support.ts';

const s3 = mockClient(S3Client);
const store = new SnapshotStore(
  new S3BlobStore(new S3Client({ region: 'eu-central-1' }), { bucket: 'snapshots-bucket' }),
  new ParquetMembersCodec(),
);

const CURRENT = 'snapshots/cohort=vip/current.json';
const MANIFEST = 'snapshots/cohort=vip/version=3/manifest.json';
const LOST = 'snapshots/cohort=vip/lost-publish/version=3.json';
const manifest = (previous: number | null) =>
  JSON.stringify({ cohort: 'vip', version: 3, status: 'published', previous_version: previous });
const current = (version: number, etag: string) => ({ Body: objectBody(`{"version":${version}}\n`), ETag: etag });
const notFound = () => new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' });

describe('publishing a snapshot version on S3', () => {
  beforeEach(() => {
    s3.reset();
    // Every other key (the versions before 3, which publishing reads back to the previous current) is missing.
    s3.on(GetObjectCommand).rejects(notFound());
    s3.on(GetObjectCommand, { Key: MANIFEST }).resolves({ Body: objectBody(manifest(2)) });
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: MANIFEST }], IsTruncated: false });
  });

  it('moves current.json with If-Match on the ETag it read', async () => {
    // Prepare
    s3.on(GetObjectCommand, { Key: CURRENT }).resolves(current(2, '"e2"'));
    s3.on(PutObjectCommand).resolves({ ETag: '"e3"' });
    // Act
    await store.publish('vip', 3);
    // Assess
    expect(s3).toHaveReceivedCommandExactlyOnceWith(PutObjectCommand, {
      Bucket: 'snapshots-bucket',
      Key: CURRENT,
      Body: '{"version":3}\n',
      ContentType: 'application/json',
      IfMatch: '"e2"',
    });
  });

  it('creates the first current.json with If-None-Match', async () => {
    // Prepare
    s3.on(GetObjectCommand, { Key: MANIFEST }).resolves({ Body: objectBody(manifest(null)) });
    s3.on(GetObjectCommand, { Key: CURRENT }).rejects(notFound());
    s3.on(PutObjectCommand).resolves({ ETag: '"e3"' });
    // Act
    await store.publish('vip', 3);
    // Assess
    expect(s3).toHaveReceivedCommandExactlyOnceWith(PutObjectCommand, { Key: CURRENT, IfNoneMatch: '*', Body: '{"version":3}\n' });
  });

  it('loses the race to a run that moved current first, says so without writing current again, and records the lost version once', async () => {
    // Prepare: the other run's write lands between our read and our write.
    s3.on(GetObjectCommand, { Key: CURRENT }).resolvesOnce(current(2, '"e2"')).resolves(current(4, '"e4"'));
    s3.on(PutObjectCommand, { Key: CURRENT }).rejects(serviceError({ name: 'PreconditionFailed', status: 412 }));
    s3.on(PutObjectCommand, { Key: LOST }).resolves({ ETag: '"l3"' });
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: MANIFEST }], IsTruncated: false });
    // Act
    const publishing = store.publish('vip', 3);
    // Assess
    await expect(publishing).rejects.toBeInstanceOf(CurrentMovedError);
    await expect(publishing).rejects.toMatchObject({ name: 'CurrentMovedError' });
    const writes = s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    expect(writes.filter((input) => input.Key === CURRENT)).toEqual([expect.objectContaining({ IfMatch: '"e2"' })]);
    expect(writes.filter((input) => input.Key === LOST)).toEqual([expect.objectContaining({ IfNoneMatch: '*' })]);
    expect(JSON.parse(String(writes.find((input) => input.Key === LOST)?.Body))).toMatchObject({
      version: 3,
      computed_against: 2,
      current_version: 4,
    });
  });

  it('writes again after a conflicting write in flight (409), from a fresh read', async () => {
    // Prepare
    s3.on(GetObjectCommand, { Key: CURRENT }).resolves(current(2, '"e2"'));
    s3.on(PutObjectCommand)
      .rejectsOnce(serviceError({ name: 'ConditionalRequestConflict', status: 409 }))
      .resolves({ ETag: '"e3"' });
    // Act
    await store.publish('vip', 3);
    // Assess
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 2);
    expect(s3).toHaveReceivedNthCommandWith(PutObjectCommand, 2, { IfMatch: '"e2"', Body: '{"version":3}\n' });
    expect(s3.commandCalls(GetObjectCommand).filter((call) => call.args[0].input.Key === CURRENT)).toHaveLength(2);
  });

  it('marks lost a published version that current passed without it ever being current (a Snapshot that died before current.json)', async () => {
    // Prepare: v2 (against v1) was written by an execution whose Snapshot died; the next execution wrote v3 against v1.
    const v2 = 'snapshots/cohort=vip/version=2/manifest.json';
    const lostV2 = 'snapshots/cohort=vip/lost-publish/version=2.json';
    s3.on(GetObjectCommand, { Key: MANIFEST }).resolves({
      Body: objectBody(JSON.stringify({ ...JSON.parse(manifest(1)), lineage: { run_id: 'r3' } })),
    });
    s3.on(GetObjectCommand, { Key: v2 }).resolves({
      Body: objectBody(JSON.stringify({ cohort: 'vip', version: 2, status: 'published', previous_version: 1, lineage: { run_id: 'r2' } })),
    });
    s3.on(GetObjectCommand, { Key: CURRENT }).resolves(current(1, '"e1"'));
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: v2 }, { Key: MANIFEST }], IsTruncated: false });
    s3.on(PutObjectCommand).resolves({ ETag: '"x"' });
    // Act
    await store.publish('vip', 3);
    // Assess: current moved to v3, and v2 is recorded as never current, once
    const writes = s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    expect(writes.map((input) => input.Key)).toEqual([CURRENT, lostV2]);
    expect(JSON.parse(String(writes[1]?.Body))).toMatchObject({ version: 2, computed_against: 1, current_version: 3, run_id: 'r2' });
  });

  it('gives up with ConcurrentUpdateError, which the state machine retries, while the write stays contended', async () => {
    // Prepare
    s3.on(GetObjectCommand, { Key: CURRENT }).resolves(current(2, '"e2"'));
    s3.on(PutObjectCommand).rejects(serviceError({ name: 'ConditionalRequestConflict', status: 409 }));
    // Act
    const publishing = store.publish('vip', 3);
    // Assess
    await expect(publishing).rejects.toBeInstanceOf(ConcurrentUpdateError);
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 5);
  });
});
