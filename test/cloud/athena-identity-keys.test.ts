import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { IdentityOfLake, ListedFile, ListedSource } from '../../shared/checks/kept-source-checks.ts';
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

/** A promise and its resolve (Promise.withResolvers is ES2024). */
function deferred() {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Lets pending promise callbacks run (the fakes answer at once). */
const settle = () => new Promise<void>((r) => setTimeout(r, 0));

const HOUR_MS = 60 * 60 * 1000;

/**
 * The snapshots bucket as a map of objects, an UNLOAD that writes one Parquet object into its
 * folder (or fails when asked to, or when the folder is not empty, as Athena's does), and an
 * engine answering the map's `identity` rows; every statement in `sent`. `hold` pauses the next
 * UNLOAD before (`before`) or after (`after`) it writes, until released: two runs interleaved.
 * `clock` is the ms the keys see.
 */
function world() {
  const objects = new Map<string, string>();
  const log: string[] = [];
  bucketOfMap(s3, objects, log);
  const sent: string[] = [];
  let failUnload = false;
  let takeFolders = 0;
  let held: { readonly when: 'before' | 'after'; readonly gate: Promise<void>; reached: boolean } | undefined;
  const clock = { ms: Date.parse('2026-12-06T04:00:00Z') };
  const unload = async (sql: string, folder: string) => {
    sent.push(`UNLOAD ${folder} ${sql}`);
    const hold = held;
    held = undefined;
    const pause = async (when: 'before' | 'after') => {
      if (hold?.when !== when) return;
      hold.reached = true;
      await hold.gate;
    };
    await pause('before');
    const prefix = folder.replace(`s3://${BUCKET}/`, '');
    if (takeFolders > 0) objects.set(`${prefix}other-build.parquet`, 'PAR1');
    takeFolders = Math.max(0, takeFolders - 1);
    if ([...objects.keys()].some((k) => k.startsWith(prefix))) throw new Error('HIVE_PATH_ALREADY_EXISTS: Target directory for table');
    objects.set(`${prefix}part-${sent.length}.parquet`, 'PAR1');
    await pause('after');
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
    now: () => clock.ms,
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
    clock,
    failNextUnload: () => {
      failUnload = true;
    },
    recover: () => {
      failUnload = false;
    },
    /** The next `count` UNLOADs find their folder written by another build (Athena refuses them). */
    takeNextFolders: (count: number) => {
      takeFolders = count;
    },
    /** Pauses the next UNLOAD (before or after it writes) until `release`; `reached` once it waits. */
    hold: (when: 'before' | 'after') => {
      const gate = deferred();
      const state = { when, gate: gate.promise, reached: false };
      held = state;
      return {
        reached: async () => {
          for (let i = 0; i < 100 && !state.reached; i += 1) await settle();
          expect(state.reached).toBe(true);
        },
        release: gate.resolve,
      };
    },
  };
}

const MAP: ListedFile = { key: 'lake/identities/map.jsonl', size: 100, version: '"m1"' };
const keyFiles = (objects: Map<string, string>) => [...objects.keys()].filter((k) => k.startsWith('checks/identity-keys/')).sort();
/** A version's files. */
const filesOf = (objects: Map<string, string>, version: string) =>
  [...objects.keys()].filter((k) => k.startsWith(`checks/identity-keys/version=${version}/`));
/** The version a relation reads. */
const versionOf = (kept: IdentityOfLake) => /version = '([^']+)'/.exec(kept.keys.relation)?.[1] as string;
/** The kept state. */
const stateOf = (objects: Map<string, string>) =>
  JSON.parse(objects.get('checks/identity-keys/state.json') as string) as { version: string; retired: Record<string, number> };
const VERSION = /^[0-9a-f]{16}-\d{13}-[0-9a-f]{8}$/;

describe("the cloud's identity keys, kept for the source checks", () => {
  beforeEach(() => {
    s3.reset();
  });

  it('unload the keys as MD5 digests once, then serve them from the table while the map files stay the same', async () => {
    const w = world();

    const first = await w.keys(w.listed([MAP]));

    // One UNLOAD of the distinct keys into a folder of its own build, one statement for the identity rows.
    expect(w.sent).toHaveLength(2);
    const unload = w.sent[0] as string;
    expect(unload).toMatch(
      /^UNLOAD s3:\/\/snapshots-bucket\/checks\/identity-keys\/version=[0-9a-f]{16}-1796529600000-[0-9a-f]{8}\/ SELECT DISTINCT source, lower\(to_hex\(md5\(to_utf8\(user_key\)\)\)\) AS user_key/,
    );
    expect(unload).toContain("WHERE listing = 'l-1'");
    const version = /version=([0-9a-f-]+)\//.exec(unload)?.[1] as string;
    expect(version).toMatch(VERSION);
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

  it('build the keys again when a map file changes; the older version stays through the grace period, then goes after the new state', async () => {
    const w = world();
    const v1 = versionOf(await w.keys(w.listed([MAP])));
    w.clock.ms += HOUR_MS;

    const changed = await w.keys(w.listed([{ ...MAP, version: '"m2"' }]));

    expect(w.sent).toHaveLength(4);
    const v2 = versionOf(changed);
    expect(v2).not.toBe(v1);
    expect(filesOf(w.objects, v2)).toHaveLength(1);
    // A run that read the older state may still be reading v1: it stays, recorded as retired now.
    expect(filesOf(w.objects, v1)).toHaveLength(1);
    expect(stateOf(w.objects)).toMatchObject({ version: v2, retired: { [v1]: w.clock.ms } });

    // A day later another change: v1 (retired 25 hours ago) goes, v2 (retired now) stays.
    w.clock.ms += 24 * HOUR_MS + 1;
    const v1File = filesOf(w.objects, v1)[0] as string;
    const v3 = versionOf(await w.keys(w.listed([{ ...MAP, version: '"m3"' }])));
    expect(filesOf(w.objects, v1)).toEqual([]);
    expect(filesOf(w.objects, v2)).toHaveLength(1);
    expect(stateOf(w.objects)).toEqual(expect.objectContaining({ version: v3, retired: { [v2]: w.clock.ms } }));
    // The old version's files go only once the new state names the new one.
    expect(w.log.indexOf(`delete ${v1File}`)).toBeGreaterThan(w.log.lastIndexOf('put checks/identity-keys/state.json'));
    // An added file changes the keys too.
    await w.keys(
      w.listed([
        { ...MAP, version: '"m3"' },
        { key: 'lake/identities/more.jsonl', size: 5, version: '"x"' },
      ]),
    );
    expect(w.sent).toHaveLength(8);
  });

  it('a run with the keys current removes a retired version once its grace period passed, without a map change', async () => {
    const w = world();
    const v1 = versionOf(await w.keys(w.listed([MAP])));
    const m2 = [{ ...MAP, version: '"m2"' }];
    const v2 = versionOf(await w.keys(w.listed(m2)));
    const statements = w.sent.length;

    // Within the grace period: v1 stays, nothing is listed, deleted or written.
    w.clock.ms += 23 * HOUR_MS;
    const logged = w.log.length;
    await w.keys(w.listed(m2, 'l-3'));
    expect(filesOf(w.objects, v1)).toHaveLength(1);
    expect(w.log.slice(logged)).toEqual([]);

    // Past it: v1's files go, then the state stops listing it; v2 is still served, no statement sent.
    w.clock.ms += HOUR_MS + 1;
    const served = await w.keys(w.listed(m2, 'l-4'));
    expect(versionOf(served)).toBe(v2);
    expect(filesOf(w.objects, v1)).toEqual([]);
    expect(filesOf(w.objects, v2)).toHaveLength(1);
    expect(stateOf(w.objects)).toMatchObject({ version: v2, retired: {} });
    expect(w.log.slice(logged)).toEqual([
      `delete ${`checks/identity-keys/version=${v1}/part-1.parquet`}`,
      'put checks/identity-keys/state.json',
    ]);
    expect(w.sent).toHaveLength(statements);
  });

  it('the clean-up leaves a state another run wrote meanwhile as it is', async () => {
    const w = world();
    await w.keys(w.listed([MAP]));
    const m2 = [{ ...MAP, version: '"m2"' }];
    await w.keys(w.listed(m2));
    w.clock.ms += 25 * HOUR_MS;
    // Another run writes a state naming newer keys while this one lists the versions.
    const theirs = `${JSON.stringify({ ...stateOf(w.objects), fingerprint: 'f'.repeat(64), retired: { other: 1 } })}\n`;
    s3.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => {
      w.objects.set('checks/identity-keys/state.json', theirs);
      return { Contents: [...w.objects.keys()].filter((k) => k.startsWith(input.Prefix)).map((Key) => ({ Key, Size: 1 })) };
    });

    await w.keys(w.listed(m2, 'l-3'));

    expect(w.objects.get('checks/identity-keys/state.json')).toBe(theirs);
  });

  it('after a crash between the data and the state, build again into a fresh folder; the leftover goes after the grace period', async () => {
    const w = world();
    w.failNextUnload();
    await expect(w.keys(w.listed([MAP]))).rejects.toThrow('Lambda timed out');
    // Any other failure is the run's: no second UNLOAD.
    expect(w.sent).toHaveLength(1);
    expect(w.objects.has('checks/identity-keys/state.json')).toBe(false);
    const leftover = keyFiles(w.objects)[0] as string;
    w.recover();
    w.clock.ms += 1;

    const kept = await w.keys(w.listed([MAP]));

    // The leftover is never read (the state names the new build), and stays while it may be a running build's.
    expect(leftover).toMatch(/part-1\.parquet$/);
    expect(filesOf(w.objects, versionOf(kept))).toEqual([expect.stringMatching(/part-2\.parquet$/)]);
    expect(stateOf(w.objects).version).toBe(versionOf(kept));
    expect(w.objects.has(leftover)).toBe(true);
    expect(kept.rows).toHaveLength(1);

    // The next build a day later deletes it (no state ever named it: its age is its build's).
    w.clock.ms += 24 * HOUR_MS;
    await w.keys(w.listed([{ ...MAP, version: '"m2"' }]));
    expect(w.objects.has(leftover)).toBe(false);
    expect(filesOf(w.objects, versionOf(kept))).toHaveLength(1);
  });

  it('an UNLOAD that finds its folder taken builds into a fresh one (three times at most)', async () => {
    const w = world();
    w.takeNextFolders(1);

    const kept = await w.keys(w.listed([MAP]));

    const folders = w.sent.filter((s) => s.startsWith('UNLOAD')).map((s) => s.split(' ')[1]);
    expect(folders).toHaveLength(2);
    expect(folders[0]).not.toBe(folders[1]);
    expect(folders[1]).toContain(`version=${versionOf(kept)}/`);
    expect(filesOf(w.objects, versionOf(kept))).toHaveLength(1);
    // The other build's file is left alone.
    expect(keyFiles(w.objects).filter((k) => k.endsWith('other-build.parquet'))).toHaveLength(1);

    w.takeNextFolders(3);
    await expect(w.keys(w.listed([{ ...MAP, version: '"m2"' }]))).rejects.toThrow('HIVE_PATH_ALREADY_EXISTS');
    expect(w.sent.filter((s) => s.startsWith('UNLOAD'))).toHaveLength(5);
  });

  it('serve the keys of a state written before builds had folders of their own (the fingerprint prefix alone)', async () => {
    const w = world();
    await w.keys(w.listed([MAP]));
    const state = stateOf(w.objects);
    const old = state.version.slice(0, 16);
    w.objects.set('checks/identity-keys/state.json', JSON.stringify({ ...state, version: old, retired: undefined }));

    const kept = await w.keys(w.listed([MAP]));

    expect(w.sent).toHaveLength(2);
    expect(versionOf(kept)).toBe(old);

    // Its folder is retired as any other when the map changes, and goes a day later.
    w.objects.set(`checks/identity-keys/version=${old}/0.parquet`, 'PAR1');
    await w.keys(w.listed([{ ...MAP, version: '"m2"' }]));
    expect(filesOf(w.objects, old)).toHaveLength(1);
    w.clock.ms += 24 * HOUR_MS + 1;
    await w.keys(w.listed([{ ...MAP, version: '"m3"' }]));
    expect(filesOf(w.objects, old)).toEqual([]);
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

describe("the cloud's identity keys with two runs at once (a realtime tick beside the daily refresh, a retried Plan)", () => {
  beforeEach(() => {
    s3.reset();
  });

  it("a second build of the same keys while the first one's UNLOAD runs: both succeed, into folders of their own", async () => {
    const w = world();
    const first = w.hold('before');
    const running = w.keys(w.listed([MAP]));
    await first.reached();

    const second = await w.keys(w.listed([MAP], 'l-2'));
    first.release();
    const firstKept = await running;

    // Before, both UNLOADed into one folder and Athena refused the second to write there.
    expect(versionOf(firstKept)).not.toBe(versionOf(second));
    expect(filesOf(w.objects, versionOf(firstKept))).toHaveLength(1);
    expect(filesOf(w.objects, versionOf(second))).toHaveLength(1);
    expect(stateOf(w.objects).version).toBe(versionOf(firstKept));
  });

  it('a second build never deletes the files of a first one between its UNLOAD and its state', async () => {
    const w = world();
    const first = w.hold('after');
    const running = w.keys(w.listed([MAP]));
    await first.reached();
    const written = keyFiles(w.objects);

    const second = await w.keys(w.listed([MAP], 'l-2'));

    // Before, the second emptied the folder "of an unfinished build" the first had just written.
    for (const key of written) expect(w.objects.has(key)).toBe(true);
    first.release();
    const firstKept = await running;
    expect(filesOf(w.objects, versionOf(firstKept))).toEqual(written);
    expect(filesOf(w.objects, versionOf(second))).toHaveLength(1);
  });

  it("builds over two versions of the map at once: neither deletes the folder the other's state names or the other reads", async () => {
    const w = world();
    const first = w.hold('after');
    const running = w.keys(w.listed([MAP]));
    await first.reached();

    const second = await w.keys(w.listed([{ ...MAP, version: '"m2"' }]));
    first.release();
    const firstKept = await running;

    // The state the first wrote last names its own folder, which still holds its keys (before, the
    // second deleted it as "an older version", and every later run read no key at all); the
    // second's folder, which its run may still read, stays too.
    expect(stateOf(w.objects).version).toBe(versionOf(firstKept));
    expect(filesOf(w.objects, versionOf(firstKept))).toHaveLength(1);
    expect(filesOf(w.objects, versionOf(second))).toHaveLength(1);
    // And a later run of the first map serves it.
    const later = await w.keys(w.listed([MAP], 'l-3'));
    expect(later).toEqual(firstKept);
    expect(w.sent).toHaveLength(4);
  });

  it('a run still reading the version it found keeps it while another run builds a new one', async () => {
    const w = world();
    const reading = await w.keys(w.listed([MAP]));
    w.clock.ms += 23 * HOUR_MS;
    const retiredAt = w.clock.ms;

    await w.keys(w.listed([{ ...MAP, version: '"m2"' }]));
    w.clock.ms += 2 * HOUR_MS;
    await w.keys(w.listed([{ ...MAP, version: '"m3"' }]));

    // Built 25 hours ago but replaced 2 hours ago: a run that read it may still be at work.
    expect(filesOf(w.objects, versionOf(reading))).toHaveLength(1);
    expect(stateOf(w.objects).retired[versionOf(reading)]).toBe(retiredAt);
  });
});
