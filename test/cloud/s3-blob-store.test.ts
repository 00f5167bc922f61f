import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConcurrentUpdateError, InvalidS3LocationError, ThrottledError } from '../../shared/cloud/errors.ts';
import { S3BlobStore } from '../../shared/cloud/s3-blob-store.ts';
import { BlobExistsError } from '../../shared/ports.ts';
import { objectBody, serviceError, text } from './support.ts';

const s3 = mockClient(S3Client);
const client = new S3Client({ region: 'eu-central-1' });

const preconditionFailed = () =>
  new S3ServiceException({
    name: 'PreconditionFailed',
    $fault: 'client',
    $metadata: { httpStatusCode: 412 },
    message: 'At least one of the pre-conditions you specified did not hold',
  });

describe('the S3 blob store', () => {
  beforeEach(() => {
    s3.reset();
  });

  it('reads an object under its key prefix', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({ Body: objectBody('{"version":3}\n'), ETag: '"e1"' });
    const store = new S3BlobStore(client, { bucket: 'snapshots-bucket', prefix: 'state/' });

    // Act
    const bytes = await store.get('snapshots/cohort=a/current.json');

    // Assess
    expect(text(bytes)).toBe('{"version":3}\n');
    expect(s3).toHaveReceivedCommandExactlyOnceWith(GetObjectCommand, {
      Bucket: 'snapshots-bucket',
      Key: 'state/snapshots/cohort=a/current.json',
    });
  });

  it('returns undefined for a missing key', async () => {
    // Prepare
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' }));
    const store = new S3BlobStore(client, { bucket: 'snapshots-bucket' });

    // Act
    const bytes = await store.get('snapshots/cohort=a/current.json');

    // Assess
    expect(bytes).toBeUndefined();
  });

  it('lets a missing bucket surface instead of reading it as a missing key', async () => {
    // Prepare
    s3.on(GetObjectCommand).rejects(serviceError({ name: 'NoSuchBucket', status: 404 }));
    const store = new S3BlobStore(client, { bucket: 'snapshots-bucket' });

    // Act
    const reading = store.get('snapshots/cohort=a/current.json');

    // Assess
    await expect(reading).rejects.toMatchObject({ name: 'NoSuchBucket' });
  });

  it('writes an object with put, unconditionally and with a content type', async () => {
    // Prepare
    s3.on(PutObjectCommand).resolves({ ETag: '"e2"' });
    const store = new S3BlobStore(client, { bucket: 'snapshots-bucket' });

    // Act
    await store.put('exports/cohort=a/latest.json', '{}');

    // Assess
    expect(s3).toHaveReceivedCommandExactlyOnceWith(PutObjectCommand, {
      Bucket: 'snapshots-bucket',
      Key: 'exports/cohort=a/latest.json',
      Body: '{}',
      ContentType: 'application/json',
    });
    const input = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(input).not.toHaveProperty('IfNoneMatch');
    expect(input).not.toHaveProperty('IfMatch');
  });

  it('creates an object with an If-None-Match condition', async () => {
    // Prepare
    s3.on(PutObjectCommand).resolves({ ETag: '"e3"' });
    const store = new S3BlobStore(client, { bucket: 'snapshots-bucket', prefix: 'state/' });
    const body = new Uint8Array([80, 65, 82, 49]);

    // Act
    await store.create('snapshots/cohort=a/version=1/members.parquet', body);

    // Assess
    expect(s3).toHaveReceivedCommandExactlyOnceWith(PutObjectCommand, {
      Bucket: 'snapshots-bucket',
      Key: 'state/snapshots/cohort=a/version=1/members.parquet',
      Body: body,
      ContentType: 'application/vnd.apache.parquet',
      IfNoneMatch: '*',
    });
  });

  it('refuses to create an object that exists (412) with BlobExistsError', async () => {
    // Prepare
    s3.on(PutObjectCommand).rejects(preconditionFailed());
    const store = new S3BlobStore(client, { bucket: 'snapshots-bucket' });

    // Act
    const creating = store.create('snapshots/cohort=a/version=1/manifest.json', '{}');

    // Assess
    await expect(creating).rejects.toBeInstanceOf(BlobExistsError);
    await expect(creating).rejects.toThrow(
      's3://snapshots-bucket/snapshots/cohort=a/version=1/manifest.json already exists and is never rewritten',
    );
  });

  it('reports a create racing another write (409) as a concurrent update', async () => {
    // Prepare
    s3.on(PutObjectCommand).rejects(serviceError({ name: 'ConditionalRequestConflict', status: 409 }));
    const store = new S3BlobStore(client, { bucket: 'snapshots-bucket' });

    // Act
    const creating = store.create('snapshots/cohort=a/version=1/manifest.json', '{}');

    // Assess
    await expect(creating).rejects.toBeInstanceOf(ConcurrentUpdateError);
  });

  it('lists every page of keys, relative to its prefix and sorted, without folder markers', async () => {
    // Prepare
    s3.on(ListObjectsV2Command)
      .resolvesOnce({
        IsTruncated: true,
        NextContinuationToken: 'page-2',
        Contents: [{ Key: 'state/snapshots/cohort=a/version=2/manifest.json' }, { Key: 'state/snapshots/cohort=a/' }],
      })
      .resolvesOnce({
        IsTruncated: false,
        Contents: [{ Key: 'state/snapshots/cohort=a/version=10/manifest.json' }, { Key: 'state/snapshots/cohort=a/current.json' }],
      });
    const store = new S3BlobStore(client, { bucket: 'snapshots-bucket', prefix: 'state/' });

    // Act
    const keys = await store.list('snapshots/cohort=a/');

    // Assess
    expect(keys).toEqual([
      'snapshots/cohort=a/current.json',
      'snapshots/cohort=a/version=10/manifest.json',
      'snapshots/cohort=a/version=2/manifest.json',
    ]);
    expect(s3).toHaveReceivedCommandTimes(ListObjectsV2Command, 2);
    expect(s3).toHaveReceivedNthCommandWith(ListObjectsV2Command, 1, {
      Bucket: 'snapshots-bucket',
      Prefix: 'state/snapshots/cohort=a/',
      ContinuationToken: undefined,
    });
    expect(s3).toHaveReceivedNthCommandWith(ListObjectsV2Command, 2, {
      Bucket: 'snapshots-bucket',
      Prefix: 'state/snapshots/cohort=a/',
      ContinuationToken: 'page-2',
    });
  });

  it('lists nothing under an empty prefix', async () => {
    // Prepare
    s3.on(ListObjectsV2Command).resolves({ IsTruncated: false, KeyCount: 0 });
    const store = new S3BlobStore(client, { bucket: 'snapshots-bucket' });

    // Act
    const keys = await store.list('snapshots/cohort=nobody/');

    // Assess
    expect(keys).toEqual([]);
  });

  it('locates keys and folders as s3:// URIs', () => {
    // Prepare
    const store = new S3BlobStore(client, { bucket: 'snapshots-bucket', prefix: 'state/' });

    // Act
    const located = [store.locate('snapshots/cohort=a/version=1/'), store.locate('snapshots/cohort=a/current.json')];

    // Assess
    expect(located).toEqual([
      's3://snapshots-bucket/state/snapshots/cohort=a/version=1/',
      's3://snapshots-bucket/state/snapshots/cohort=a/current.json',
    ]);
  });

  it('refuses keys the local store would resolve differently, and bad buckets and prefixes', () => {
    // Prepare
    const store = new S3BlobStore(client, { bucket: 'snapshots-bucket' });

    // Act
    const attempts = [
      () => store.locate('../outside.json'),
      () => store.locate('/absolute.json'),
      () => store.locate('a//b.json'),
      () => new S3BlobStore(client, { bucket: 'Not_A_Bucket' }),
      () => new S3BlobStore(client, { bucket: 'snapshots-bucket', prefix: 'no-slash' }),
      () => new S3BlobStore(client, { bucket: 'snapshots-bucket', prefix: "it's/" }),
    ];

    // Assess
    for (const attempt of attempts.slice(0, 3)) expect(attempt).toThrow('not a valid blob key');
    for (const attempt of attempts.slice(3)) expect(attempt).toThrow(InvalidS3LocationError);
  });

  it('surfaces throttling after the SDK retries as ThrottledError', async () => {
    // Prepare
    s3.on(ListObjectsV2Command).rejects(serviceError({ name: 'SlowDown', status: 503, message: 'Please reduce your request rate.' }));
    const store = new S3BlobStore(client, { bucket: 'snapshots-bucket' });

    // Act
    const listing = store.list('snapshots/');

    // Assess
    await expect(listing).rejects.toBeInstanceOf(ThrottledError);
    await expect(listing).rejects.toMatchObject({ name: 'ThrottledError', operation: 'S3.ListObjectsV2' });
  });

  describe('compare-and-swap', () => {
    it('reads an object with its ETag', async () => {
      // Prepare
      s3.on(GetObjectCommand).resolves({ Body: objectBody('{"version":1}\n'), ETag: '"etag-1"' });
      const store = new S3BlobStore(client, { bucket: 'snapshots-bucket' });

      // Act
      const seen = await store.getWithEtag('snapshots/cohort=a/current.json');

      // Assess
      expect(seen?.etag).toBe('"etag-1"');
      expect(text(seen?.body)).toBe('{"version":1}\n');
    });

    it('replaces an object only if its ETag is unchanged, and returns the new ETag', async () => {
      // Prepare
      s3.on(PutObjectCommand).resolves({ ETag: '"etag-2"' });
      const store = new S3BlobStore(client, { bucket: 'snapshots-bucket' });

      // Act
      const etag = await store.putIfUnchanged('snapshots/cohort=a/current.json', '{"version":2}\n', '"etag-1"');

      // Assess
      expect(etag).toBe('"etag-2"');
      expect(s3).toHaveReceivedCommandExactlyOnceWith(PutObjectCommand, {
        Bucket: 'snapshots-bucket',
        Key: 'snapshots/cohort=a/current.json',
        Body: '{"version":2}\n',
        ContentType: 'application/json',
        IfMatch: '"etag-1"',
      });
    });

    it('writes a first version only if there is still none', async () => {
      // Prepare
      s3.on(PutObjectCommand).resolves({ ETag: '"etag-1"' });
      const store = new S3BlobStore(client, { bucket: 'snapshots-bucket' });

      // Act
      await store.putIfUnchanged('snapshots/cohort=a/current.json', '{"version":1}\n', undefined);

      // Assess
      expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { IfNoneMatch: '*' });
      expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).not.toHaveProperty('IfMatch');
    });

    it.each([
      ['changed since read (412)', () => preconditionFailed()],
      [
        'deleted since read (404)',
        () => new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' }),
      ],
      ['being written by another request (409)', () => serviceError({ name: 'ConditionalRequestConflict', status: 409 })],
    ])('raises ConcurrentUpdateError when the object was %s', async (_, error) => {
      // Prepare
      s3.on(PutObjectCommand).rejects(error());
      const store = new S3BlobStore(client, { bucket: 'snapshots-bucket' });

      // Act
      const writing = store.putIfUnchanged('snapshots/cohort=a/current.json', '{"version":2}\n', '"etag-1"');

      // Assess
      await expect(writing).rejects.toBeInstanceOf(ConcurrentUpdateError);
      await expect(writing).rejects.toMatchObject({ name: 'ConcurrentUpdateError' });
    });
  });
});
