import { CopyObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConcurrentUpdateError } from '../../shared/cloud/errors.ts';
import { csvField, personIdsCsv, S3Exports } from '../../shared/cloud/s3-exports.ts';
import { objectBody } from './support.ts';

const s3 = mockClient(S3Client);
const client = new S3Client({ region: 'eu-central-1' });
const BUCKET = 'exports-bucket';

const noSuchKey = () => new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' });
const preconditionFailed = () =>
  new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 }, message: 'precondition' });

const version3 = {
  cohort: 'power_users',
  version: 3,
  asOf: '2024-07-01T00:00:00.000Z',
  members: ['alice@example.com', 'p-2', 'p-3'],
  entered: ['p-3'],
  exited: ['p-9'],
};

const latestJson = (version: number) => ({
  cohort: 'power_users',
  version,
  as_of: '2024-07-01T00:00:00.000Z',
  size: 3,
  entered: 1,
  exited: 1,
  members: `s3://exports-bucket/exports/cohort=power_users/version=${version}/members.csv`,
  entered_csv: `s3://exports-bucket/exports/cohort=power_users/version=${version}/entered.csv`,
  exited_csv: `s3://exports-bucket/exports/cohort=power_users/version=${version}/exited.csv`,
});

describe('CSV of person ids', () => {
  it('writes a header and one id a line, quoting as RFC 4180 requires', () => {
    // Prepare
    const ids = ['plain', 'with,comma', 'with "quote"', 'with\rcr', 'with\nlf', ' spaced '];

    // Act
    const csv = personIdsCsv(ids);

    // Assess
    expect(csv).toBe('person_id\nplain\n"with,comma"\n"with ""quote"""\n"with\rcr"\n"with\nlf"\n spaced \n');
  });

  it('writes only the header for no ids', () => {
    // Prepare
    const ids: string[] = [];

    // Act
    const csv = personIdsCsv(ids);

    // Assess
    expect(csv).toBe('person_id\n');
    expect(csvField('')).toBe('');
  });
});

describe('the S3 exports', () => {
  beforeEach(() => {
    s3.reset();
    s3.on(PutObjectCommand).resolves({ ETag: '"new"' });
  });

  it('writes members, entered and exited, then points latest.json at the version', async () => {
    // Prepare
    s3.on(GetObjectCommand).rejects(noSuchKey());
    const exports = new S3Exports(client, { bucket: BUCKET });

    // Act
    const written = await exports.write(version3);

    // Assess
    const folder = 'exports/cohort=power_users/version=3/';
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: BUCKET,
      Key: `${folder}members.csv`,
      Body: 'person_id\nalice@example.com\np-2\np-3\n',
      ContentType: 'text/csv; charset=utf-8',
    });
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Bucket: BUCKET, Key: `${folder}entered.csv`, Body: 'person_id\np-3\n' });
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Bucket: BUCKET, Key: `${folder}exited.csv`, Body: 'person_id\np-9\n' });
    expect(s3).toHaveReceivedLastCommandWith(PutObjectCommand, {
      Bucket: BUCKET,
      Key: 'exports/cohort=power_users/latest.json',
      Body: `${JSON.stringify(latestJson(3), null, 2)}\n`,
      ContentType: 'application/json',
      IfNoneMatch: '*',
    });
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 4);
    expect(s3).not.toHaveReceivedCommand(CopyObjectCommand);
    expect(written).toEqual({
      folder: `s3://${BUCKET}/${folder}`,
      members: `s3://${BUCKET}/${folder}members.csv`,
      entered: `s3://${BUCKET}/${folder}entered.csv`,
      exited: `s3://${BUCKET}/${folder}exited.csv`,
      latest: `s3://${BUCKET}/exports/cohort=power_users/latest.json`,
    });
  });

  it('replaces latest.json only if it is unchanged since read', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({ Body: objectBody(JSON.stringify(latestJson(2))), ETag: '"v2"' });
    const exports = new S3Exports(client, { bucket: BUCKET });

    // Act
    await exports.write(version3);

    // Assess
    expect(s3).toHaveReceivedLastCommandWith(PutObjectCommand, { Key: 'exports/cohort=power_users/latest.json', IfMatch: '"v2"' });
  });

  it('never moves latest.json back to an older version', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({ Body: objectBody(JSON.stringify(latestJson(4))), ETag: '"v4"' });
    const exports = new S3Exports(client, { bucket: BUCKET });

    // Act
    await exports.write(version3);

    // Assess
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 3);
    expect(s3).not.toHaveReceivedCommandWith(PutObjectCommand, { Key: 'exports/cohort=power_users/latest.json' });
  });

  it('reads latest.json again when another writer moved it first', async () => {
    // Prepare
    s3.on(GetObjectCommand)
      .resolvesOnce({ Body: objectBody(JSON.stringify(latestJson(1))), ETag: '"v1"' })
      .resolvesOnce({ Body: objectBody(JSON.stringify(latestJson(2))), ETag: '"v2"' });
    s3.on(PutObjectCommand, { Key: 'exports/cohort=power_users/latest.json', IfMatch: '"v1"' }).rejects(preconditionFailed());
    const exports = new S3Exports(client, { bucket: BUCKET });

    // Act
    await exports.write(version3);

    // Assess
    expect(s3).toHaveReceivedCommandTimes(GetObjectCommand, 2);
    expect(s3).toHaveReceivedLastCommandWith(PutObjectCommand, { Key: 'exports/cohort=power_users/latest.json', IfMatch: '"v2"' });
  });

  it('gives up with ConcurrentUpdateError after three lost races', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({ Body: objectBody(JSON.stringify(latestJson(1))), ETag: '"v1"' });
    s3.on(PutObjectCommand, { Key: 'exports/cohort=power_users/latest.json' }).rejects(preconditionFailed());
    const exports = new S3Exports(client, { bucket: BUCKET });

    // Act
    const writing = exports.write(version3);

    // Assess
    await expect(writing).rejects.toBeInstanceOf(ConcurrentUpdateError);
    expect(s3).toHaveReceivedCommandTimes(GetObjectCommand, 3);
  });

  it('copies the snapshot Parquet file next to the CSV files when asked', async () => {
    // Prepare
    s3.on(GetObjectCommand).rejects(noSuchKey());
    s3.on(CopyObjectCommand).resolves({});
    const exports = new S3Exports(client, { bucket: BUCKET, prefix: 'shared/' });

    // Act
    const written = await exports.write({
      ...version3,
      membersParquet: 's3://snapshots-bucket/snapshots/cohort=power_users/version=3/members.parquet',
    });

    // Assess
    expect(s3).toHaveReceivedCommandExactlyOnceWith(CopyObjectCommand, {
      Bucket: BUCKET,
      Key: 'shared/exports/cohort=power_users/version=3/members.parquet',
      CopySource: 'snapshots-bucket/snapshots/cohort%3Dpower_users/version%3D3/members.parquet',
    });
    expect(written.membersParquet).toBe(`s3://${BUCKET}/shared/exports/cohort=power_users/version=3/members.parquet`);
  });

  it('refuses a cohort id or version that would make a strange key', async () => {
    // Prepare
    const exports = new S3Exports(client, { bucket: BUCKET });

    // Act
    const attempts = [exports.write({ ...version3, cohort: '../x' }), exports.write({ ...version3, version: 0 })];

    // Assess
    await expect(attempts[0]).rejects.toThrow('not a cohort id');
    await expect(attempts[1]).rejects.toThrow('not a version number');
    expect(s3).not.toHaveReceivedAnyCommand();
  });
});
