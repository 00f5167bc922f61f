import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlobExports, type CohortExports } from '../../shared/deliver/exports.ts';
import type { MembersCodec } from '../../shared/ports.ts';
import { MemoizedCodec } from '../../shared/store/members-memo.ts';
import { ParquetMembersCodec } from '../../shared/store/parquet-members-codec.ts';
import { SnapshotStore } from '../../shared/store/snapshot-store.ts';
import { runRefreshSteps } from '../../shared/workflow/run-steps.ts';
import { tempDir } from '../support/cli.ts';
import { login, writeDefinitions, writeLake } from '../support/lake.ts';
import { COHORTS, DEFINITIONS, EVENTS, givenWorld, portsOf, type World } from '../workflow/support.ts';

const FIRST = '2024-06-01T00:00:00.000Z';
const LATER = '2024-06-07T00:00:00.000Z';

/**
 * The workflow tests' lake with two more people logging in before LATER, so the second refresh moves
 * people: its entered and exited lists differ from every version's members (the exports encode them anew).
 */
async function givenLake(): Promise<{ lake: string; definitions: string }> {
  const root = await tempDir('cohorts-memo-run-');
  const [lake, definitions] = [join(root, 'lake'), join(root, 'definitions')];
  const later = [login('e5', 'cid', '2024-06-05T10:00:00Z'), login('e6', 'dan', '2024-06-06T10:00:00Z')];
  await writeLake(lake, [...EVENTS, ...later], [{ source: 'billing', user_id: 'cus_1', person_id: 'ann' }]);
  await writeDefinitions(definitions, DEFINITIONS);
  return { lake, definitions };
}

/** A codec that records what reaches it: each list encoded and each file decoded, with how often. */
function recording(inner: MembersCodec) {
  const encoded = new Map<string, number>();
  const decoded = new Map<string, number>();
  const bump = (seen: Map<string, number>, key: string) => seen.set(key, (seen.get(key) ?? 0) + 1);
  const codec: MembersCodec = {
    encode: (ids) => {
      bump(encoded, JSON.stringify(ids));
      return inner.encode(ids);
    },
    decode: (bytes) => {
      bump(decoded, createHash('sha256').update(bytes).digest('hex'));
      return inner.decode(bytes);
    },
  };
  return { codec, encoded, decoded };
}

/**
 * The second of two refreshes of a world (the first as of FIRST), the second in a new process: its
 * snapshot store and exports share one memo of `bound` bytes over a recording codec. Returns the
 * recording, the memo and what the memo held when Deliver began (every new and previous list held).
 */
async function secondRun(world: World, bound?: number) {
  await runRefreshSteps({ as_of: FIRST }, portsOf(world));
  const recorded = recording(world.engine);
  const memo = new MemoizedCodec(recorded.codec, bound);
  const exports = new BlobExports(world.blobs, memo);
  let heldAtDeliver: number | undefined;
  const watched: CohortExports = {
    write: (input) => {
      heldAtDeliver ??= memo.heldBytes;
      return exports.write(input);
    },
    latestVersion: (cohort) => exports.latestVersion(cohort),
    announcedVersion: (cohort) => exports.announcedVersion(cohort),
    markAnnounced: (cohort, version) => exports.markAnnounced(cohort, version),
  };
  const store = new SnapshotStore(world.blobs, memo);
  const { summary } = await runRefreshSteps({ as_of: LATER }, { ...portsOf(world), store, exports: watched });
  return { ...recorded, memo, summary, heldAtDeliver: heldAtDeliver as number, store, world };
}

/** Each version's members as the memo serves them, beside what decoding its file anew gives. */
async function servedAndFiles(run: Awaited<ReturnType<typeof secondRun>>) {
  const fresh = new ParquetMembersCodec();
  return Promise.all(
    run.summary.cohorts.map(async ({ cohort, version }) => {
      const file = await run.world.blobs.get(`snapshots/cohort=${cohort}/version=${version}/members.parquet`);
      return { served: await run.store.members(cohort, version), file: await fresh.decode(file as Uint8Array) };
    }),
  );
}

describe('the members memo over a refresh (every Snapshot, then every Deliver)', () => {
  it('encodes each version once and decodes each file at most once, with a bound below all it is given', async () => {
    // Prepare: the bound is what the run's new and previous lists weigh when Deliver begins, measured
    // in a first world; entered and exited, encoded for the exports, come on top and push out the oldest.
    const lake = await givenLake();
    const measured = await secondRun(await givenWorld(lake));
    const bound = measured.heldAtDeliver;

    // Act
    const run = await secondRun(await givenWorld(lake), bound);

    // Assess: the counts first (reading the files below goes through the memo too)
    expect(measured.memo.heldBytes).toBeGreaterThan(bound);
    expect(run.memo.heldBytes).toBeLessThanOrEqual(bound);
    expect(run.summary.cohorts.map((c) => c.cohort).sort()).toEqual([...COHORTS].sort());
    expect(run.summary.cohorts.filter((c) => c.status === 'published').length).toBeGreaterThanOrEqual(3);
    const decodes = [...run.decoded.values()];
    expect(decodes.length).toBeGreaterThan(0);
    expect(decodes.every((n) => n === 1)).toBe(true);
    const lists = await servedAndFiles(run);
    for (const { served, file } of lists) {
      expect(served).toEqual(file);
      expect(run.encoded.get(JSON.stringify(file))).toBe(1);
    }
  });

  it('decodes a file again rather than serve a list it no longer holds, when the bound is below the run', async () => {
    // Prepare
    const lake = await givenLake();
    const measured = await secondRun(await givenWorld(lake));

    // Act
    const run = await secondRun(await givenWorld(lake), Math.floor(measured.heldAtDeliver / 2));

    // Assess: some file read twice, and every version's members still exactly its file's
    expect([...run.decoded.values()].some((n) => n > 1)).toBe(true);
    for (const { served, file } of await servedAndFiles(run)) expect(served).toEqual(file);
  });

  it('holds the new and previous lists of the 10M bench (50 cohorts, 933 to 135,106 ids) within its default bound', async () => {
    // Prepare: a codec whose file is the list's digest (cheap), so only the memo's bound is at stake
    const files = new Map<string, string[]>();
    const calls = { encode: 0, decode: 0 };
    const codec: MembersCodec = {
      encode: async (ids) => {
        calls.encode++;
        const digest = createHash('sha256').update(ids.join('\n')).digest();
        files.set(digest.toString('hex'), [...ids]);
        return new Uint8Array(digest);
      },
      decode: async (bytes) => {
        calls.decode++;
        return [...(files.get(Buffer.from(bytes).toString('hex')) ?? [])];
      },
    };
    const people = Array.from({ length: 200_000 }, (_, i) => `u_${String(i + 1).padStart(6, '0')}`);
    const sizes = Array.from({ length: 50 }, (_, i) => Math.round(933 * (135_106 / 933) ** (i / 49)));
    const previous = await Promise.all(sizes.map((size) => codec.encode(people.slice(0, size))));
    const next = sizes.map((size) => people.slice(1, size + 1));
    Object.assign(calls, { encode: 0, decode: 0 });
    const memo = new MemoizedCodec(codec);

    // Act: Snapshot for each cohort (the previous members read, the new written), then Deliver for each
    const written: Uint8Array[] = [];
    for (const [i, bytes] of previous.entries()) {
      await memo.decode(bytes);
      written.push(await memo.encode(next[i] as string[]));
    }
    let served = true;
    const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((id, j) => id === b[j]);
    for (const [i, bytes] of written.entries()) {
      served &&= same(await memo.decode(bytes), next[i] as string[]);
      served &&= same(await memo.decode(previous[i] as Uint8Array), people.slice(0, sizes[i]));
      await memo.encode(next[i] as string[]);
    }

    // Assess
    expect(served).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBeGreaterThan(1_300_000);
    expect(calls).toEqual({ encode: 50, decode: 50 });
  });
});
