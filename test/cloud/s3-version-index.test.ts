import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../shared/cloud/s3-blob-store.ts';
import type { Manifest } from '../../shared/store/manifest.ts';
import type { MembersCodec } from '../../shared/ports.ts';
import { SnapshotStore } from '../../shared/store/snapshot-store.ts';
import { FakeAws } from '../workflow/fake-aws.ts';

const BUCKET = 'cohorts-snapshots';
const VERSIONS = 300;
const aws = new FakeAws();
/** Members as JSON: what this test counts is reads of manifests and listings, not Parquet. */
const codec: MembersCodec = {
  encode: async (ids) => new TextEncoder().encode(JSON.stringify(ids)),
  decode: async (bytes) => JSON.parse(Buffer.from(bytes).toString('utf8')) as string[],
};
const asOfOf = (version: number) => new Date(Date.UTC(2024, 5, 1) + (version - 1) * 300_000).toISOString();
const manifestOf = (version: number, status = 'published'): Manifest =>
  ({ cohort: 'vip', version, as_of: asOfOf(version), status, size: 100, previous_version: version - 1 || null }) as unknown as Manifest;
const listings = () => aws.s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input.Prefix);
const manifestReads = () =>
  aws.s3
    .commandCalls(GetObjectCommand)
    .map((c) => c.args[0].input.Key ?? '')
    .filter((key) => key.endsWith('/manifest.json'));

describe('the index of versions on S3', () => {
  let store: SnapshotStore;

  beforeEach(() => {
    // Prepare: 300 versions written before the index existed, current at the newest
    aws.reset();
    store = new SnapshotStore(new S3BlobStore(new S3Client({ region: 'eu-central-1' }), { bucket: BUCKET }), codec);
    for (let version = 1; version <= VERSIONS; version++) {
      aws.put(BUCKET, `snapshots/cohort=vip/version=${version}/members.parquet`, '["a"]');
      aws.put(BUCKET, `snapshots/cohort=vip/version=${version}/manifest.json`, JSON.stringify(manifestOf(version)));
    }
    aws.put(BUCKET, 'snapshots/cohort=vip/current.json', `{"version":${VERSIONS}}\n`);
  });

  it('is rebuilt from one listing when missing, then read with a few single-version listings and bounded reads', async () => {
    // Act: the first reader finds no index
    expect(await store.nextVersion('vip')).toBe(VERSIONS + 1);
    // Assess: one full listing, the index and an as-of entry per version written
    expect(listings()).toEqual(['snapshots/cohort=vip/']);
    expect(aws.text(BUCKET, 'snapshots/cohort=vip/index.json')).toBe(`{"through":${VERSIONS}}\n`);
    expect(aws.keys(BUCKET).filter((key) => key.startsWith('snapshots/cohort=vip/as-of/'))).toHaveLength(VERSIONS);

    // Act: what a refresh reads next: the as-of match, the next number, the history of the checks
    aws.s3.resetHistory();
    const sameAsOf = await store.manifestsAsOf('vip', asOfOf(150));
    const next = await store.nextVersion('vip');
    const history = await store.recentPublished('vip', next, (read) => read.length >= 28);
    // Assess: the right answers, from the as-of's entries, the one folder after the index, and 29 + 8 manifests at most
    expect(sameAsOf.map((m) => m.version)).toEqual([150]);
    expect(next).toBe(VERSIONS + 1);
    expect(history.map((m) => m.version)).toEqual(Array.from({ length: 28 }, (_, i) => VERSIONS - 27 + i));
    expect(listings()).not.toContain('snapshots/cohort=vip/');
    expect(listings()).toContain(`snapshots/cohort=vip/as-of/${asOfOf(150).replace(/[^0-9A-Za-z]/g, '')}/`);
    expect(manifestReads().length).toBeLessThanOrEqual(1 + 32);
  });

  it('finds the versions a stale index does not name, by listing single version folders, and moves it up', async () => {
    // Prepare: an index that stops at version 10
    await store.nextVersion('vip');
    aws.put(BUCKET, 'snapshots/cohort=vip/index.json', '{"through":10}\n');
    aws.s3.resetHistory();
    // Act
    const next = await store.nextVersion('vip');
    // Assess: 11, 12, 14, ..., 522 galloped, then halved down to 300: some twenty single-folder listings
    expect(next).toBe(VERSIONS + 1);
    expect(listings().every((prefix) => /^snapshots\/cohort=vip\/version=\d+\/$/.test(prefix ?? ''))).toBe(true);
    expect(listings().length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(VERSIONS)) + 2);
    expect(aws.text(BUCKET, 'snapshots/cohort=vip/index.json')).toBe(`{"through":${VERSIONS}}\n`);
  });

  it('keeps a version written after the index in the as-of match and the history: its entry comes before its manifest', async () => {
    // Prepare
    await store.nextVersion('vip');
    const later = { ...manifestOf(VERSIONS + 1), as_of: asOfOf(3) };
    await store.write(later, ['a']);
    // Act
    const sameAsOf = await store.manifestsAsOf('vip', asOfOf(3));
    const history = await store.recentPublished('vip', VERSIONS + 2, (read) => read.length >= 2);
    // Assess
    expect(sameAsOf.map((m) => m.version)).toEqual([3, VERSIONS + 1]);
    expect(history.map((m) => m.version)).toEqual([VERSIONS, VERSIONS + 1]);
    expect(aws.text(BUCKET, 'snapshots/cohort=vip/index.json')).toBe(`{"through":${VERSIONS + 1}}\n`);
  });

  it('is never written by a read (the latest version, as `cohorts checks` reads it): nothing is written on S3 either', async () => {
    // Act: a cohort with no index and 300 versions, and one with none (a typo'd id), read as history does
    const newest = await store.newestStarted('vip');
    const { value: latest } = await store.manifestsNewestFirst('vip').next();
    const typo = await store.newestStarted('vip_typo');
    // Assess: the right answers, and not one object written
    expect([newest, latest?.version, typo]).toEqual([VERSIONS, VERSIONS, 0]);
    expect(aws.s3.commandCalls(PutObjectCommand)).toEqual([]);
    expect(aws.keys(BUCKET).filter((key) => key.endsWith('/index.json') || key.includes('/as-of/'))).toEqual([]);
  });
});
