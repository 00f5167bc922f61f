import '../cloud/support.ts';
import { CopyObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { S3Exports } from '../../shared/cloud/s3-exports.ts';
import type { Alert } from '../../shared/notify/notifier.ts';
import { forgetPerson } from '../../shared/privacy/erase.ts';
import { exportScreen } from '../../shared/privacy/export-screen.ts';
import { csvPersonIds, dropPersonRows } from '../../shared/privacy/person-csv.ts';
import { withPrivacyFindings } from '../../shared/privacy/privacy-alert.ts';
import type { PrivacyReport } from '../../shared/privacy/privacy-check.ts';
import { parseSuppressionList } from '../../shared/privacy/suppression.ts';
import { privacyWorld } from './support.ts';

describe('S3 exports with the privacy screen', () => {
  it('never write a suppressed or forgotten person, nor copy a Parquet file that holds them', async () => {
    // Prepare
    const world = await privacyWorld();
    await world.blobs.put('privacy/suppressed.txt', 'p-2\n');
    await forgetPerson('alice@example.com', world.privacy, 'cli');
    const s3 = mockClient(S3Client);
    s3.on(PutObjectCommand).resolves({ ETag: '"new"' });
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'no such key' }));
    const exports = new S3Exports(new S3Client({ region: 'eu-central-1' }), { bucket: 'exports-bucket', screen: exportScreen(world.privacy) });

    // Act
    await exports.write({
      cohort: 'power_users',
      version: 3,
      asOf: '2024-07-01T00:00:00.000Z',
      members: ['alice@example.com', 'p-2', 'p-3'],
      entered: ['p-2', 'p-3'],
      exited: ['p-9'],
      membersParquet: 's3://snapshots-bucket/snapshots/cohort=power_users/version=3/members.parquet',
    });

    // Assess
    const folder = 'exports/cohort=power_users/version=3/';
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Key: `${folder}members.csv`, Body: 'person_id\np-3\n' });
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Key: `${folder}entered.csv`, Body: 'person_id\np-3\n' });
    expect(s3).not.toHaveReceivedCommand(CopyObjectCommand);
    const latest = s3.commandCalls(PutObjectCommand).find((call) => call.args[0].input.Key?.endsWith('latest.json'));
    expect(JSON.parse(String(latest?.args[0].input.Body))).toMatchObject({ size: 1, entered: 1, exited: 1 });
    s3.restore();
  });
});

describe('CSV rows of a person', () => {
  it('are dropped with every other byte kept as written, quoted fields and CRLF included', () => {
    const csv = 'arm,person_id\r\ntreatment,"bob"\r\n"hold, out",ann\r\ncontrol,"b""ob"\r\n';
    expect(dropPersonRows(csv, (id) => id === 'bob')).toEqual({ text: 'arm,person_id\r\n"hold, out",ann\r\ncontrol,"b""ob"\r\n', removed: 1 });
    expect(csvPersonIds(csv)).toEqual(['bob', 'ann', 'b"ob']);
  });

  it('are left alone in a CSV without a person_id column', () => {
    expect(dropPersonRows('email\nbob@example.com\n', () => true)).toBeUndefined();
  });
});

describe('the suppression list format', () => {
  it('skips comments, blanks and the header, and counts e-mail ids in their normalized form too', () => {
    expect([...parseSuppressionList('person_id\n# opt-outs\n\n  Ann@Example.com \nu-1\n')]).toEqual(['Ann@Example.com', 'ann@example.com', 'u-1']);
  });
});

describe('the privacy findings in the run alert', () => {
  const run = { run_id: 'r1', as_of: '2024-06-01T00:00:00.000Z' };
  const report = (kinds: PrivacyReport['findings'][number]['kind'][]): PrivacyReport => ({
    versions: 4,
    exports: 2,
    findings: kinds.map((kind) => ({ kind, location: '/state/x.csv', count: 1, message: `/state/x.csv holds a ${kind} thing` })),
  });
  const info: Alert = { severity: 'info', title: 'cohort refresh: 1 moved', body: 'Moved: a', cohorts: ['a'], run_id: 'r1' };

  it('leaves the alert as it was when nothing was found', () => {
    expect(withPrivacyFindings(info, report([]), run)).toBe(info);
    expect(withPrivacyFindings(undefined, report([]), run)).toBeUndefined();
  });

  it('raises a fail for a forgotten person or a personal property and a warn for a suppressed one', () => {
    expect(withPrivacyFindings(info, report(['suppressed']), run)?.severity).toBe('warn');
    const failed = withPrivacyFindings(info, report(['suppressed', 'forgotten']), run);
    expect(failed).toMatchObject({ severity: 'fail', title: 'cohort refresh: 1 moved; privacy check: 2 findings', cohorts: ['a'] });
    expect(failed?.body).toContain('Privacy check (4 versions, 2 export files):\n  suppressed: /state/x.csv holds a suppressed thing');
    expect(withPrivacyFindings(undefined, report(['personal_property']), run)).toMatchObject({ severity: 'fail', run_id: 'r1' });
  });
});
