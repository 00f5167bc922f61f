import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ListedFile, ListedSource } from '../../shared/checks/kept-source-checks.ts';
import { SOURCE_CHECK_COLUMNS } from '../../shared/checks/source-rows.ts';
import { athenaIdentityKeys } from '../../shared/cloud/athena-identity-keys.ts';
import { S3BlobStore } from '../../shared/cloud/s3-blob-store.ts';
import { athenaDialect } from '../../shared/compiler/athena-dialect.ts';
import type { QueryEngine } from '../../shared/ports.ts';
import { calledFunctions, parseTrino, TRINO_FUNCTIONS } from '../compiler/support.ts';
import { bucketOfMap } from './support.ts';

const s3 = mockClient(S3Client);
const BUCKET = 'snapshots-bucket';
/** Trino's functions the keys' SQL calls beyond the compiler's: the MD5 of a user id, the checks' counts. */
const KEY_FUNCTIONS = new Set([...TRINO_FUNCTIONS, 'md5', 'to_hex', 'to_utf8', 'lower', 'max', 'min', 'count']);

/**
 * The snapshots bucket as a map of objects, an UNLOAD that writes one Parquet object into its
 * folder (or fails when asked to, or when the folder is not empty, as Athena's does), and an
 * engine answering the map's `identity` rows; every statement in `sent`.
 */
function world() {
  const objects = new Map<string, string>();
  const log: string[] = [];
  bucketOfMap(s3, objects, log);
  const sent: string[] = [];
  let failUnload = false;
  const unload = async (sql: string, folder: string) => {
    sent.push(`UNLOAD ${folder} ${sql}`);
    const prefix = folder.replace(`s3://${BUCKET}/`, '');
    if ([...objects.keys()].some((k) => k.startsWith(prefix))) throw new Error('HIVE_PATH_ALREADY_EXISTS');
    objects.set(`${prefix}part-${sent.length}.parquet`, 'PAR1');
    if (failUnload) throw new Error('Lambda timed out');
  };
  const engine = {
    name: 'athena engine v3',
    dialect: athenaDialect,
    rows: async (sql: string) => {
      sent.push(sql);
      return [Object.fromEntries(SOURCE_CHECK_COLUMNS.map((c) => [c, c === 'grain' ? 'identity' : c === 'source' ? 'web' : null]))];
    },
  } as unknown as QueryEngine;
  const keys = athenaIdentityKeys({
    engine,
    unload,
    s3: new S3Client({ region: 'eu-central-1' }),
    bucket: BUCKET,
    blobs: new S3BlobStore(new S3Client({ region: 'eu-central-1' }), { bucket: BUCKET }),
    database: 'cohort_refresh',
  });
  const listed = (files: readonly ListedFile[], listing = 'l-1'): ListedSource => ({
    events: [],
    identities: files,
    relations: {
      events: 'events',
      identities: `(SELECT * FROM cohort_refresh.identities_jsonl WHERE listing = '${listing}')`,
      lists: 'lists',
    },
    eventsOf: async () => 'events',
  });
  return {
    objects,
    log,
    sent,
    keys,
    listed,
    failNextUnload: () => {
      failUnload = true;
    },
    recover: () => {
      failUnload = false;
    },
  };
}

const MAP: ListedFile = { key: 'lake/identities/map.jsonl', size: 100, version: '"m1"' };
const keyFiles = (objects: Map<string, string>) => [...objects.keys()].filter((k) => k.startsWith('checks/identity-keys/')).sort();

describe("the cloud's identity keys, kept for the source checks", () => {
  beforeEach(() => {
    s3.reset();
  });

  it('unload the keys as MD5 digests once, then serve them from the table while the map files stay the same', async () => {
    const w = world();

    const first = await w.keys(w.listed([MAP]));

    // One UNLOAD of the distinct keys into a version folder, one statement for the identity rows.
    expect(w.sent).toHaveLength(2);
    const unload = w.sent[0] as string;
    expect(unload).toMatch(
      /^UNLOAD s3:\/\/snapshots-bucket\/checks\/identity-keys\/version=[0-9a-f]{16}\/ SELECT DISTINCT source, lower\(to_hex\(md5\(to_utf8\(user_key\)\)\)\) AS user_key/,
    );
    expect(unload).toContain("WHERE listing = 'l-1'");
    const version = /version=([0-9a-f]{16})\//.exec(unload)?.[1] as string;
    expect(first.keys.relation).toBe(
      `(SELECT DISTINCT source, user_key FROM "cohort_refresh"."identity_keys" WHERE version = '${version}')`,
    );
    expect(first.keys.keyOf('e.user_id')).toBe('lower(to_hex(md5(to_utf8(e.user_id))))');
    expect(first.rows).toMatchObject([{ grain: 'identity', source: 'web' }]);
    // The state is written after the data, outside every version folder.
    expect(w.log.filter((l) => l.startsWith('put'))).toEqual(['put checks/identity-keys/state.json']);
    expect(keyFiles(w.objects)).toEqual(['checks/identity-keys/state.json', `checks/identity-keys/version=${version}/part-1.parquet`]);

    // A later run, another listing of the same files: no statement, the same keys and rows.
    const second = await w.keys(w.listed([MAP], 'l-2'));
    expect(w.sent).toHaveLength(2);
    expect(second).toEqual(first);
  });

  it('build the keys again when a map file changes, deleting the older version after the new state', async () => {
    const w = world();
    await w.keys(w.listed([MAP]));
    const old = keyFiles(w.objects).find((k) => k.endsWith('.parquet')) as string;

    const changed = await w.keys(w.listed([{ ...MAP, version: '"m2"' }]));

    expect(w.sent).toHaveLength(4);
    expect(w.objects.has(old)).toBe(false);
    const files = keyFiles(w.objects);
    expect(files).toHaveLength(2);
    expect(changed.keys.relation).toContain(`'${/version=([0-9a-f]{16})\//.exec(files[1] as string)?.[1]}'`);
    // The old version's files go only once the new state names the new one.
    expect(w.log.indexOf(`delete ${old}`)).toBeGreaterThan(w.log.lastIndexOf('put checks/identity-keys/state.json'));
    // An added file changes the keys too.
    await w.keys(
      w.listed([
        { ...MAP, version: '"m2"' },
        { key: 'lake/identities/more.jsonl', size: 5, version: '"x"' },
      ]),
    );
    expect(w.sent).toHaveLength(6);
  });

  it('after a crash between the data and the state, build again over the leftover files instead of serving them', async () => {
    const w = world();
    w.failNextUnload();
    await expect(w.keys(w.listed([MAP]))).rejects.toThrow('Lambda timed out');
    expect(w.objects.has('checks/identity-keys/state.json')).toBe(false);
    w.recover();

    const kept = await w.keys(w.listed([MAP]));

    // The leftover (part-1) was deleted before the same folder was written again (Athena's UNLOAD refuses a non-empty one).
    expect(w.log).toContain(`delete ${w.sent[0]?.split(' ')[1]?.replace('s3://snapshots-bucket/', '')}part-1.parquet`);
    expect(keyFiles(w.objects)).toEqual(['checks/identity-keys/state.json', expect.stringMatching(/part-2\.parquet$/)]);
    expect(kept.rows).toHaveLength(1);
  });

  it('build again when the state object is unreadable', async () => {
    const w = world();
    await w.keys(w.listed([MAP]));
    w.objects.set('checks/identity-keys/state.json', '{"fingerprint": 1');

    await w.keys(w.listed([MAP]));

    expect(w.sent).toHaveLength(4);
  });

  it('send SQL that parses with the Trino grammar and calls only Trino functions', async () => {
    const w = world();
    const kept = await w.keys(w.listed([MAP]));
    const statements = [...w.sent.map((s) => s.replace(/^UNLOAD \S+ /, '')), `SELECT * FROM ${kept.keys.relation} AS k`];
    for (const sql of statements) {
      expect(() => parseTrino(sql)).not.toThrow();
      expect(calledFunctions(sql).filter((name) => !KEY_FUNCTIONS.has(name))).toEqual([]);
    }
  });
});
