import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConcurrentUpdateError } from '../../shared/cloud/errors.ts';
import { s3Exports } from '../../shared/cloud/s3-exports.ts';
import { csvField, personIdsCsv } from '../../shared/deliver/exports.ts';
import type { MembersCodec } from '../../shared/ports.ts';
import { objectBody } from './support.ts';

const s3 = mockClient(S3Client);
const client = new S3Client({ region: 'eu-central-1' });
const BUCKET = 'exports-bucket';

/** Stands in for the Parquet codec: what matters here is which bytes go to which key. */
const codec: MembersCodec = {
  encode: async (ids) => new TextEncoder().encode(`parquet:${ids.join('|')}`),
  decode: async () => [],
};

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

const files = (version: number, prefix = '') => {
  const folder = `s3://${BUCKET}/${prefix}exports/cohort=power_users/version=${version}/`;
  return {
    folder,
    members_csv: `${folder}members.csv`,
    entered_csv: `${folder}entered.csv`,
    exited_csv: `${folder}exited.csv`,
    members_parquet: `${folder}members.parquet`,
    entered_parquet: `${folder}entered.parquet`,
    exited_parquet: `${folder}exited.parquet`,
  };
};

const latestJson = (version: number) => ({
  cohort: 'power_users',
  version,
  as_of: '2024-07-01T00:00:00.000Z',
  size: 3,
  entered: 1,
  exited: 1,
  ...files(version),
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

  it('neutralizes cells a spreadsheet would take for a formula with a leading quote (OWASP CSV injection)', () => {
    // Prepare: ids as a CRM field or a support handle may hold them
    const ids = [
      '=HYPERLINK("http://evil.example","click")',
      "+cmd|' /C calc'!A0",
      '@sum(1+1)*cmd|',
      '-2+3',
      '\tx',
      '\rx',
      "'quoted",
      'a=b',
      'ann',
    ];

    // Act
    const csv = personIdsCsv(ids);

    // Assess: one ' in front (also before an id starting with ', so the rule reverses exactly), then RFC 4180 quoting
    expect(csv).toBe(
      'person_id\n"\'=HYPERLINK(""http://evil.example"",""click"")"\n\'+cmd|\' /C calc\'!A0\n\'@sum(1+1)*cmd|\n\'-2+3\n\'\tx\n"\'\rx"\n\'\'quoted\na=b\nann\n',
    );
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

  it('writes members, entered and exited as CSV and Parquet, then points latest.json at the version', async () => {
    // Prepare
    s3.on(GetObjectCommand).rejects(noSuchKey());
    const exports = s3Exports(client, { bucket: BUCKET }, codec);

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
    for (const [list, ids] of [
      ['members', 'alice@example.com|p-2|p-3'],
      ['entered', 'p-3'],
      ['exited', 'p-9'],
    ]) {
      expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
        Bucket: BUCKET,
        Key: `${folder}${list}.parquet`,
        Body: new TextEncoder().encode(`parquet:${ids}`),
        ContentType: 'application/vnd.apache.parquet',
      });
    }
    expect(s3).toHaveReceivedLastCommandWith(PutObjectCommand, {
      Bucket: BUCKET,
      Key: 'exports/cohort=power_users/latest.json',
      Body: `${JSON.stringify(latestJson(3), null, 2)}\n`,
      ContentType: 'application/json',
      IfNoneMatch: '*',
    });
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 7);
    expect(written).toEqual({ ...files(3), latest: `s3://${BUCKET}/exports/cohort=power_users/latest.json` });
  });

  it('writes under the prefix when given one', async () => {
    s3.on(GetObjectCommand).rejects(noSuchKey());
    const exports = s3Exports(client, { bucket: BUCKET, prefix: 'shared/' }, codec);

    const written = await exports.write(version3);

    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Key: 'shared/exports/cohort=power_users/version=3/members.parquet' });
    expect(written.members_parquet).toBe(files(3, 'shared/').members_parquet);
    expect(written.latest).toBe(`s3://${BUCKET}/shared/exports/cohort=power_users/latest.json`);
  });

  it('replaces latest.json only if it is unchanged since read', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({ Body: objectBody(JSON.stringify(latestJson(2))), ETag: '"v2"' });
    const exports = s3Exports(client, { bucket: BUCKET }, codec);

    // Act
    await exports.write(version3);

    // Assess
    expect(s3).toHaveReceivedLastCommandWith(PutObjectCommand, { Key: 'exports/cohort=power_users/latest.json', IfMatch: '"v2"' });
  });

  it('never moves latest.json back to an older version', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({ Body: objectBody(JSON.stringify(latestJson(4))), ETag: '"v4"' });
    const exports = s3Exports(client, { bucket: BUCKET }, codec);

    // Act
    await exports.write(version3);

    // Assess
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 6);
    expect(s3).not.toHaveReceivedCommandWith(PutObjectCommand, { Key: 'exports/cohort=power_users/latest.json' });
  });

  it('reads latest.json again when another writer moved it first', async () => {
    // Prepare
    s3.on(GetObjectCommand)
      .resolvesOnce({ Body: objectBody(JSON.stringify(latestJson(1))), ETag: '"v1"' })
      .resolvesOnce({ Body: objectBody(JSON.stringify(latestJson(2))), ETag: '"v2"' });
    s3.on(PutObjectCommand, { Key: 'exports/cohort=power_users/latest.json', IfMatch: '"v1"' }).rejects(preconditionFailed());
    const exports = s3Exports(client, { bucket: BUCKET }, codec);

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
    const exports = s3Exports(client, { bucket: BUCKET }, codec);

    // Act
    const writing = exports.write(version3);

    // Assess
    await expect(writing).rejects.toBeInstanceOf(ConcurrentUpdateError);
    expect(s3).toHaveReceivedCommandTimes(GetObjectCommand, 3);
  });

  it('refuses a cohort id or version that would make a strange key', async () => {
    // Prepare
    const exports = s3Exports(client, { bucket: BUCKET }, codec);

    // Act
    const attempts = [exports.write({ ...version3, cohort: '../x' }), exports.write({ ...version3, version: 0 })];

    // Assess
    await expect(attempts[0]).rejects.toMatchObject({ name: 'InvalidExportError', message: expect.stringContaining('not a cohort id') });
    await expect(attempts[1]).rejects.toThrow('not a version number');
    expect(s3).not.toHaveReceivedAnyCommand();
  });
});
