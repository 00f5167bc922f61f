import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../shared/cloud/s3-blob-store.ts';
import { CatalogConflictError, CatalogStore, DecisionExistsError, InvalidDecisionError } from '../../shared/governance/catalog-store.ts';
import type { DefinitionVersion } from '../../shared/governance/records.ts';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import { objectBody } from '../cloud/support.ts';
import { tempDir } from '../support/cli.ts';

const entry = (hash: string, version = 1): DefinitionVersion => ({
  cohort: 'core_users',
  version,
  change: version === 1 ? 'added' : 'changed',
  hash,
  path: 'definitions/core_users.yaml',
  text: 'id: core_users\n',
  tier: 'core',
  cadence: 'daily',
  change_reason: null,
  author: null,
  accepted_at: '2024-06-01T00:00:00.000Z',
  run_id: 'run-1',
  approval: null,
});

const HASH = 'a'.repeat(64);
const decision = {
  cohort: 'core_users',
  hash: HASH,
  decision: 'approved' as const,
  by: 'dana',
  note: 'ok',
  at: '2024-06-01T00:00:00.000Z',
};

describe('the catalog of accepted definitions', () => {
  let store: CatalogStore;

  beforeEach(async () => {
    store = new CatalogStore(new FsBlobStore(join(await tempDir(), 'state')));
  });

  it('keeps every accepted version and gives the latest of each cohort', async () => {
    await store.accept(entry('h1'));
    await store.accept(entry('h2', 2));
    expect((await store.versions('core_users')).map((v) => v.hash)).toEqual(['h1', 'h2']);
    expect((await store.latest()).get('core_users')?.version).toBe(2);
  });

  it('accepts the same version again (a retried step) but never another definition under its number', async () => {
    await store.accept(entry('h1'));
    await store.accept(entry('h1'));
    await expect(store.accept(entry('other'))).rejects.toBeInstanceOf(CatalogConflictError);
  });

  it('records a decision once and refuses a second one on the same definition', async () => {
    await store.decide(decision);
    expect(await store.decision('core_users', HASH)).toEqual(decision);
    await expect(store.decide({ ...decision, decision: 'rejected', by: 'eve' })).rejects.toBeInstanceOf(DecisionExistsError);
  });

  it('records a refused or waiting change once and says whether it was new', async () => {
    const record = {
      cohort: 'core_users',
      outcome: 'pending' as const,
      hash: HASH,
      reasons: ['size'],
      author: null,
      at: '2024-06-01T00:00:00.000Z',
      run_id: 'r1',
    };
    expect(await store.record(record)).toBe(true);
    expect(await store.record({ ...record, run_id: 'r2' })).toBe(false);
    expect((await store.records('core_users')).map((r) => r.run_id)).toEqual(['r1']);
  });
});

describe('approval objects in the definitions bucket', () => {
  const s3 = mockClient(S3Client);
  const store = new CatalogStore(new S3BlobStore(new S3Client({ region: 'eu-central-1' }), { bucket: 'definitions-bucket' }));

  beforeEach(() => s3.reset());

  it('are read from catalog/decisions/ through the same blob store port', async () => {
    s3.on(GetObjectCommand, { Key: `catalog/decisions/cohort=core_users/${HASH}.json` }).resolves({
      Body: objectBody(JSON.stringify(decision)),
    });
    expect(await store.decision('core_users', HASH)).toEqual(decision);
  });

  it('that are malformed, or name another definition, are refused with their location', async () => {
    s3.on(GetObjectCommand).resolves({ Body: objectBody(JSON.stringify({ ...decision, by: '' })) });
    await expect(store.decision('core_users', HASH)).rejects.toThrow(InvalidDecisionError);
    s3.on(GetObjectCommand).resolves({ Body: objectBody(JSON.stringify({ ...decision, hash: 'b'.repeat(64) })) });
    await expect(store.decision('core_users', HASH)).rejects.toThrow(
      /s3:\/\/definitions-bucket\/catalog\/decisions\/cohort=core_users\/a+\.json is not a valid decision/,
    );
  });

  it('that do not exist mean no decision', async () => {
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'missing' }));
    expect(await store.decision('core_users', HASH)).toBeUndefined();
  });
});
