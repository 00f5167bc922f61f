import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { TILE_IDS_DIGESTS_PREFIX } from '../../shared/bucket-layout.ts';
import type { ListedLake } from '../../shared/cloud/athena-engine.ts';
import { holdsACandidate, idDigests } from '../../shared/cloud/athena-tile-id-digests.ts';
import { AthenaTileIds } from '../../shared/cloud/athena-tile-ids.ts';
import type { LakeObject } from '../../shared/cloud/lake-objects.ts';
import { S3BlobStore } from '../../shared/cloud/s3-blob-store.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { tilePartitions } from '../../shared/tiles/fingerprint.ts';
import { bucketOfMap } from './support.ts';

const s3 = mockClient(S3Client);
const DAY = 86_400_000;
const dayAt = (first: string, i: number) => new Date(Date.parse(`${first}T00:00:00Z`) + i * DAY).toISOString().slice(0, 10);

/** A deterministic pseudo-random sequence (mulberry32), so a failure replays. */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('the digests of the index of counted ids', () => {
  it('are sorted without repeats, equal for equal ids, and meet a day only through an id it holds', () => {
    const day = idDigests(['e3', 'e1', 'e2', 'e1']);
    expect(day).toHaveLength(3);
    expect([...day]).toEqual([...day].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(idDigests(['e2'])[0]).toBe(idDigests(['e2', 'x'])[idDigests(['e2', 'x']).indexOf(idDigests(['e2'])[0] as bigint)]);
    expect(holdsACandidate(day, idDigests(['x', 'y', 'e2']))).toBe(true);
    expect(holdsACandidate(day, idDigests(['x', 'y', 'z']))).toBe(false);
    expect(holdsACandidate(day, idDigests([]))).toBe(false);
  });
});

describe('the contested ids derived from the index days the digests pick', () => {
  beforeEach(() => {
    s3.reset();
  });

  it('equal the ids on more than one day of the whole index after every change of a rolling lake, while reading fewer days', async () => {
    const connection = await openDuckDb({ threads: 1 });
    await connection.run('CREATE OR REPLACE TABLE tiles_ids (event_id VARCHAR, day VARCHAR)');
    await connection.run('CREATE OR REPLACE TABLE tiles_contested (event_id VARCHAR)');
    const objects = new Map<string, string>();
    bucketOfMap(s3, objects);
    const next = random(14);
    const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)] as T;
    /** What the lake holds: the valid ids of each UTC day (the index INSERT reads them from here). */
    const lakeIds = new Map<string, string[]>();
    let fresh = 0;
    // Mostly new ids; one in ten a copy of an id of some day (a retry, a replay), so some days meet.
    const dayIds = () =>
      Array.from({ length: 1 + Math.floor(next() * 6) }, () =>
        next() < 0.1 && lakeIds.size > 0 ? pick(pick([...lakeIds.values()]).concat(`e${fresh++}`)) : `e${fresh++}`,
      );
    /** One events file per partition, its ETag bumped when a day of it changes. */
    const versions = new Map<string, number>();
    const first = '2026-03-01';
    for (let i = 0; i < 12; i += 1) {
      versions.set(dayAt(first, i), 1);
      lakeIds.set(dayAt(first, i), dayIds());
    }
    const lake = async (): Promise<ListedLake> => ({
      view: { relations: { events: '(SELECT 1)', identities: '(SELECT 1)' }, inputs: () => [] },
      events: [...versions].map(
        ([dt, v]): LakeObject => ({
          table: 'events',
          format: 'parquet',
          key: `lake/events/dt=${dt}/part-0.parquet`,
          dt,
          etag: `"v${v}"`,
          size: 100,
          tsUnit: 'micros',
        }),
      ),
    });
    const sqlText = (rows: readonly string[][]) =>
      rows.length === 0
        ? 'SELECT NULL, NULL WHERE false'
        : `VALUES ${rows.map((r) => `(${r.map((v) => `'${v}'`).join(', ')})`).join(', ')}`;
    let lastContested: string[][] = [];
    /** Per derivation: the index days it read, and those the index held. */
    const reads: { read: number; held: number }[] = [];
    const ids = new AthenaTileIds({
      s3: new S3Client({ region: 'eu-central-1' }),
      bucket: 'snapshots-bucket',
      blobs: new S3BlobStore(new S3Client({ region: 'eu-central-1' }), { bucket: 'snapshots-bucket' }),
      idsTable: 'tiles_ids',
      contestedTable: 'tiles_contested',
      insertIds: (_sql, days) => `INDEX ${days.join(' ')}`,
      insertContested: () => 'COPY CONTESTED',
      batches: (days) => days.map((day) => [day]),
      digestFromBytes: 0,
    });
    const queries = {
      run: async (sql: string) => {
        if (sql === 'COPY CONTESTED') {
          await connection.run('DELETE FROM tiles_contested');
          if (lastContested.length > 0) await connection.run(`INSERT INTO tiles_contested SELECT col0 FROM (${sqlText(lastContested)})`);
          return;
        }
        for (const day of sql.slice('INDEX '.length).split(' ')) {
          await connection.run(`DELETE FROM tiles_ids WHERE day = '${day}'`);
          const rows = (lakeIds.get(day) ?? []).map((id) => [id, day]);
          if (rows.length > 0) await connection.run(`INSERT INTO tiles_ids ${sqlText(rows)}`);
        }
      },
      rows: async (sql: string) => {
        const rows = (await connection.runAndReadAll(sql)).getRows().map((row) => row.map((v) => (v === null ? null : String(v))));
        if (sql.endsWith('ORDER BY day, event_id')) {
          lastContested = rows.map(([id]) => [id as string]);
          const held = new Set([...versions.keys()].flatMap(tilePartitions)).size;
          reads.push({ read: new Set(/WHERE day IN \(([^)]*)\)/.exec(sql)?.[1]?.split(', ')).size, held });
        }
        return rows;
      },
    };

    for (let round = 0; round < 40; round += 1) {
      const op = next();
      const dts = [...versions.keys()].sort();
      if (op < 0.5) {
        // A realtime tick: the newest day gains ids (some of them copies of older days' ids).
        const today = dts.at(-1) as string;
        lakeIds.set(today, [...(lakeIds.get(today) ?? []), ...dayIds()]);
        versions.set(today, (versions.get(today) ?? 0) + 1);
      } else if (op < 0.7) {
        const day = dayAt(dts.at(-1) as string, 1);
        lakeIds.set(day, dayIds());
        versions.set(day, 1);
      } else if (op < 0.85) {
        // A backfill or rewrite of an old day: its ids change.
        const day = pick(dts);
        lakeIds.set(day, dayIds());
        versions.set(day, (versions.get(day) ?? 0) + 1);
      } else if (op < 0.93) {
        // The oldest partition leaves the lake (retention).
        versions.delete(dts[0] as string);
      } else {
        // A store indexed before the digests existed: the next derivation reads the ids of the days without them.
        for (const key of [...objects.keys()]) if (key.startsWith(TILE_IDS_DIGESTS_PREFIX)) objects.delete(key);
      }

      const got = await ids.refresh(await lake(), async () => undefined, queries);

      const days = [...new Set([...versions.keys()].flatMap(tilePartitions))].sort();
      const daysOf = new Map<string, Set<string>>();
      for (const day of days) for (const id of lakeIds.get(day) ?? []) daysOf.set(id, new Set([...(daysOf.get(id) ?? []), day]));
      const expected = new Map<string, string[]>();
      for (const [id, on] of [...daysOf].sort(([a], [b]) => (a < b ? -1 : 1)))
        if (on.size > 1) for (const day of on) expected.set(day, [...(expected.get(day) ?? []), id]);
      const sorted = (m: ReadonlyMap<string, readonly string[]>) =>
        Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([day, list]) => [day, [...list].sort()]));
      expect(sorted(got), `round ${round}`).toEqual(sorted(expected));
    }
    // The derivations after the first read fewer days than the index holds (random ids meet often here: a real
    // lake's ids meet rarely, and its derivations read the re-indexed days and little more).
    expect(reads.length).toBeGreaterThan(20);
    expect(reads[0]?.read).toBe(reads[0]?.held);
    expect(reads.slice(1).filter(({ read, held }) => read < held)).toHaveLength(reads.length - 1);
    expect(reads.slice(1).some(({ read, held }) => read * 2 < held)).toBe(true);
    connection.closeSync();
  }, 60_000);
});
