import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../shared/cloud/s3-blob-store.ts';
import { ConcurrentUpdateError } from '../../shared/ports.ts';
import { ParquetMembersCodec } from '../../shared/store/parquet-members-codec.ts';
import { CurrentMovedError, SnapshotStore } from '../../shared/store/snapshot-store.ts';
import { objectBody, serviceError } from './support.ts';

const s3 = mockClient(S3Client);
const store = new SnapshotStore(new S3BlobStore(new S3Client({ region: 'eu-central-1' }), { bucket: 'snapshots-bucket' }), new ParquetMembersCodec());

const CURRENT = 'snapshots/cohort=vip/current.json';
const MANIFEST = 'snapshots/cohort=vip/version=3/manifest.json';
const LOST = 'snapshots/cohort=vip/lost-publish/version=3.json';
const manifest = (previous: number | null) => JSON.stringify({ cohort: 'vip', version: 3, status: 'published', previous_version: previous });
const current = (version: number, etag: string) => ({ Body: objectBody(`{"version":${version}}\n`), ETag: etag });
const notFound = () => new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' });

describe('publishing a snapshot version on S3', () => {
  beforeEach(() => {
    s3.reset();
    s3.on(GetObjectCommand, { Key: MANIFEST }).resolves({ Body: objectBody(manifest(2)) });
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
    expect(JSON.parse(String(writes.find((input) => input.Key === LOST)?.Body))).toMatchObject({ version: 3, computed_against: 2, current_version: 4 });
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
    expect(s3).toHaveReceivedCommandTimes(GetObjectCommand, 3);
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
