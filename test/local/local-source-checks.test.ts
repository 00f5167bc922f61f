import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestsOfText } from '../../shared/checks/part-digests.ts';
import { keysText } from '../../shared/checks/source-check-parts.ts';
import { querySourceChecks } from '../../shared/checks/source-check-source.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { CHECKS_FOLDER, LocalSourceChecks } from '../../shared/local/local-source-checks.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { fileValues } from '../../shared/privacy/file-values.ts';
import {
  AS_OF,
  dayFromLast,
  eventsOn,
  history,
  type IdentityRow,
  LAST_DAY,
  type RawEvent,
  sortedRows,
  withLake,
  writeRawLake,
} from '../checks/support.ts';

let connection: DuckDBConnection;
beforeAll(async () => {
  connection = await openDuckDb();
});
/** State folders of the worlds made, removed after the tests. */
const states: string[] = [];
afterAll(async () => {
  connection.closeSync();
  for (const state of states) await rm(state, { recursive: true, force: true });
});

const EVENTS: RawEvent[] = [
  { event_id: 'e1', source: 'web', user_id: ' Ann@Example.com ', event_name: 'visit', ts: `${LAST_DAY}T10:00:00Z` },
  { event_id: 'e2', source: 'web', user_id: 'bob', event_name: 'visit', ts: `${LAST_DAY}T11:00:00Z` },
  { event_id: 'e3', source: 'app', user_id: 'carl', event_name: 'open', ts: `${LAST_DAY}T12:00:00Z` },
];
const IDENTITIES: IdentityRow[] = [
  { source: 'web', user_id: 'ann@example.com', person_id: 'p_ann' },
  { source: 'web', user_id: 'ANN@example.com', person_id: 'p_other' },
  { source: 'app', user_id: 'carl', person_id: 'p_carl' },
];

/** The local checks over a lake folder, with their state folder and the queries they ran; the query's own rows beside them. */
async function world(lake: string) {
  const state = await mkdtemp(join(tmpdir(), 'source-checks-state-'));
  states.push(state);
  const engine = new DuckDbEngine(connection, lake);
  const queries: string[] = [];
  const counted = Object.assign(Object.create(engine) as DuckDbEngine, {
    rows: (sql: string) => {
      queries.push(sql);
      return engine.rows(sql);
    },
    batches: (sql: string) => {
      queries.push(sql);
      return engine.batches(sql);
    },
  });
  const checks = new LocalSourceChecks(connection, counted, lake, state);
  return {
    state,
    folder: join(state, CHECKS_FOLDER),
    queries,
    kept: async (asOf = AS_OF) => sortedRows(await checks.rows(asOf, await engine.lake())),
    queried: async (asOf = AS_OF) => sortedRows(await querySourceChecks(engine).rows(asOf, await engine.lake())),
  };
}

/** The part of a day in the rows: its `day` row of a source. */
const dayRow = (rows: readonly string[], source: string, day: string) =>
  rows
    .map((row) => JSON.parse(row))
    .find((row) => row.grain === 'day' && row.source === source && row.event_day === Date.parse(day) / 86_400_000);

/** The digests of a kept digests object. */
const digestsOf = async (path: string, count: number) => digestsOfText(await readFile(path), count) ?? new BigUint64Array();

const keptFiles = async (folder: string) => (await readdir(folder)).filter((name) => name.endsWith('.parquet')).sort();

describe('the local source checks keep the identity map keys', () => {
  it('return the rows of the query, from the kept keys once built, which name no user id', async () => {
    await withLake(async (lake) => {
      await writeRawLake(lake, EVENTS, IDENTITIES);
      const w = await world(lake);
      const expected = await w.queried();
      expect(expected.some((row) => row.includes('"identity_conflicts":1'))).toBe(true);
      expect(await w.kept()).toEqual(expected);
      const [file] = await keptFiles(w.folder);
      const built = await stat(join(w.folder, file as string));
      expect(await w.kept()).toEqual(expected);
      // Read, not built again: the same file, untouched.
      expect(await keptFiles(w.folder)).toEqual([file]);
      expect((await stat(join(w.folder, file as string))).mtimeMs).toBe(built.mtimeMs);
      const bytes = (await readFile(join(w.folder, file as string))).toString('latin1');
      for (const id of ['ann@example.com', 'carl', 'p_ann', 'p_carl']) expect(bytes).not.toContain(id);
    });
  });

  it('build the keys again when an identities file changed: a newly mapped user is no longer unmapped', async () => {
    await withLake(async (lake) => {
      await writeRawLake(lake, EVENTS, IDENTITIES);
      const w = await world(lake);
      const before = await w.kept();
      const [old] = await keptFiles(w.folder);
      await writeFile(
        join(lake, 'identities', 'identities.jsonl'),
        `${[...IDENTITIES, { source: 'web', user_id: 'bob', person_id: 'p_bob' }].map((row) => JSON.stringify(row)).join('\n')}\n`,
      );
      const after = await w.kept();
      expect(after).toEqual(await w.queried());
      expect(after).not.toEqual(before);
      const web = (rows: string[]) => rows.map((row) => JSON.parse(row)).find((row) => row.grain === 'source' && row.source === 'web');
      expect([web(before).unmapped_events, web(after).unmapped_events]).toEqual([1, 0]);
      // One kept file: the stale one is gone.
      const files = await keptFiles(w.folder);
      expect(files).toHaveLength(1);
      expect(files).not.toContain(old);
    });
  });

  it('detect a corrupted kept file or record and build the keys again', async () => {
    await withLake(async (lake) => {
      await writeRawLake(lake, EVENTS, IDENTITIES);
      const w = await world(lake);
      const expected = await w.queried();
      await w.kept();
      const [file] = await keptFiles(w.folder);
      // A kept file that is valid Parquet but holds other keys (every key dropped): its checksum no longer matches.
      await connection.run(
        `COPY (SELECT source, user_key FROM read_parquet('${join(w.folder, file as string)}') WHERE false) TO '${join(w.folder, 'x.parquet')}' (FORMAT parquet)`,
      );
      await writeFile(join(w.folder, file as string), await readFile(join(w.folder, 'x.parquet')));
      await rm(join(w.folder, 'x.parquet'));
      expect(await w.kept()).toEqual(expected);
      // A truncated record.
      await writeFile(join(w.folder, 'identity-keys.json'), '{"fingerprint": ');
      expect(await w.kept()).toEqual(expected);
      // The kept file removed.
      for (const name of await keptFiles(w.folder)) await rm(join(w.folder, name));
      expect(await w.kept()).toEqual(expected);
    });
  });

  it('work without an identity map', async () => {
    await withLake(async (lake) => {
      await writeRawLake(lake, EVENTS);
      const w = await world(lake);
      expect(await w.kept()).toEqual(await w.queried());
      expect(await w.kept()).toEqual(await w.queried());
    });
  });
});

describe("the local source checks keep each partition's part", () => {
  const month = [...history('web', () => 10, 10), ...history('app', (before) => 3 + (before % 2), 4)];
  /** A month's lake whose parts were kept by one run: the world, the query's rows and the parts' folder. */
  const keptMonth = async (lake: string) => {
    await writeRawLake(lake, month, IDENTITIES);
    const w = await world(lake);
    const expected = await w.queried();
    await w.kept();
    return { w, expected, parts: join(w.folder, 'parts') };
  };

  it('read every part kept once built: a later run of the day queries nothing', async () => {
    await withLake(async (lake) => {
      await writeRawLake(lake, month, IDENTITIES);
      const w = await world(lake);
      const expected = await w.queried();
      expect(await w.kept()).toEqual(expected);
      w.queries.length = 0;
      expect(await w.kept(new Date(AS_OF.getTime() + 3_600_000))).toEqual(await w.queried(new Date(AS_OF.getTime() + 3_600_000)));
      expect(w.queries).toEqual([]);
    });
  });

  it('a day later read again the parts whose rows lie inside both windows, and compute only the edges', async () => {
    await withLake(async (lake) => {
      // An event dated before the window, in a partition inside it: that part is never kept across windows.
      const early = { ...eventsOn('web', dayFromLast(-40), 1, 'early')[0], dt: dayFromLast(-10) };
      await writeRawLake(lake, [...month, early], IDENTITIES);
      const w = await world(lake);
      await w.kept();
      w.queries.length = 0;
      const nextDay = new Date(AS_OF.getTime() + 86_400_000);
      expect(await w.kept(nextDay)).toEqual(await w.queried(nextDay));
      // One statement (rows, ts spans, digests), over the partition the window now starts before (its rows are dated
      // before the window) and the one holding the early event; the other 27 parts are read again.
      expect(w.queries).toHaveLength(1);
      const read = new Set(w.queries.flatMap((sql) => sql.match(/dt=\d{4}-\d{2}-\d{2}/g) ?? []));
      expect([...read].sort()).toEqual([`dt=${dayFromLast(-28)}`, `dt=${dayFromLast(-10)}`]);
    });
  });

  it('recompute only the partition a late file lands in, whose day then counts it', async () => {
    await withLake(async (lake) => {
      await writeRawLake(lake, month, IDENTITIES);
      const w = await world(lake);
      const day = dayFromLast(-10);
      const before = await w.kept();
      await writeFile(
        join(lake, 'events', `dt=${day}`, 'late.jsonl'),
        `${eventsOn('web', day, 5, 'late')
          .map((e) => JSON.stringify(e))
          .join('\n')}\n`,
      );
      w.queries.length = 0;
      const after = await w.kept();
      expect(after).toEqual(await w.queried());
      expect([dayRow(before, 'web', day).events, dayRow(after, 'web', day).events]).toEqual([10, 15]);
      // One statement (rows, ts spans, digests), over that partition alone.
      expect(w.queries).toHaveLength(1);
      for (const sql of w.queries) expect(sql.match(/dt=\d{4}-\d{2}-\d{2}/g)?.every((dt) => dt === `dt=${day}`)).toBe(true);
    });
  });

  it('read the window at once when an event has copies in two partitions', async () => {
    await withLake(async (lake) => {
      const copy = { ...eventsOn('web', dayFromLast(-3), 1)[0], dt: dayFromLast(-5) };
      await writeRawLake(lake, [...month, copy], IDENTITIES);
      const w = await world(lake);
      const expected = await w.queried();
      expect(await w.kept()).toEqual(expected);
      w.queries.length = 0;
      expect(await w.kept()).toEqual(expected);
      expect(w.queries).toHaveLength(1);
      expect(w.queries[0]).toContain('GROUP BY ROLLUP (src, event_day)');
    });
  });

  it('detect a corrupted or stale part and compute it again', async () => {
    await withLake(async (lake) => {
      const { w, expected, parts } = await keptMonth(lake);
      const day = dayFromLast(-2);
      // A record naming no digests object.
      const digests = JSON.parse(await readFile(join(parts, `dt=${day}.json`), 'utf8'));
      await writeFile(join(parts, `dt=${day}.json`), JSON.stringify({ ...digests, digests: { key: 1 } }));
      // A record whose counts were changed by hand, without its fingerprint matching (a stale record).
      const record = JSON.parse(await readFile(join(parts, `dt=${dayFromLast(-4)}.json`), 'utf8'));
      await writeFile(join(parts, `dt=${dayFromLast(-4)}.json`), JSON.stringify({ ...record, fingerprint: 'old', rows: [] }));
      await writeFile(join(parts, `dt=${dayFromLast(-6)}.json`), '{"fingerprint":');
      w.queries.length = 0;
      expect(await w.kept()).toEqual(expected);
      expect(w.queries).toHaveLength(1);
      for (const dt of [day, dayFromLast(-4), dayFromLast(-6)]) expect(w.queries[0]).toContain(`dt=${dt}`);
    });
  });

  it('on a lost or corrupt digests object (and filter) read the window at once, then compute that part again', async () => {
    await withLake(async (lake) => {
      const { w, expected, parts } = await keptMonth(lake);
      const objectOf = async (day: string, kind: string) =>
        (await readdir(parts)).find((n) => n.startsWith(`dt=${day}.`) && n.endsWith(kind));
      const digestsOf = (day: string) => objectOf(day, '.digests');
      const [lost, corrupt] = [dayFromLast(-3), dayFromLast(-5)];
      // Their filters too: a filter that rules a digest out answers without the digests (they are not read).
      for (const day of [lost, corrupt]) await rm(join(parts, (await objectOf(day, '.filter')) as string));
      await rm(join(parts, (await digestsOf(lost)) as string));
      await writeFile(join(parts, (await digestsOf(corrupt)) as string), 'not the digests');
      // Nothing asks for the kept digests while no partition changed.
      w.queries.length = 0;
      expect(await w.kept()).toEqual(expected);
      expect(w.queries).toEqual([]);
      // A late file: its new digests are looked up in every kept part, which finds the lost one.
      const late = join(lake, 'events', `dt=${dayFromLast(-10)}`, 'late.jsonl');
      await writeFile(late, `${JSON.stringify(eventsOn('web', dayFromLast(-10), 1, 'late')[0])}\n`);
      const withLate = await w.queried();
      expect(await w.kept()).toEqual(withLate);
      expect(w.queries.at(-1)).toContain('GROUP BY ROLLUP (src, event_day)');
      // Each run finds one broken part (the first looked up), whose record it drops: until both are computed again.
      for (let run = 0; run < 3; run += 1) expect(await w.kept()).toEqual(withLate);
      w.queries.length = 0;
      expect(await w.kept()).toEqual(withLate);
      expect(w.queries).toEqual([]);
      for (const day of [lost, corrupt]) expect(await digestsOf(day)).toBeDefined();
    });
  });

  it('find an event copied into a kept partition later by its new digests alone, and read the window at once', async () => {
    await withLake(async (lake) => {
      const { w, expected } = await keptMonth(lake);
      expect(await w.kept()).toEqual(expected);
      // A late file in one partition holding a copy of an event of another, both parts kept and checked.
      const copy = { ...eventsOn('web', dayFromLast(-3), 1)[0] };
      await writeFile(join(lake, 'events', `dt=${dayFromLast(-5)}`, 'late.jsonl'), `${JSON.stringify(copy)}\n`);
      w.queries.length = 0;
      expect(await w.kept()).toEqual(await w.queried());
      expect(w.queries.at(-1)).toContain('GROUP BY ROLLUP (src, event_day)');
    });
  });

  it("compute again once the parts of an earlier release's state folder (digests beside them or inside), dropping those files later", async () => {
    await withLake(async (lake) => {
      const { w, expected, parts } = await keptMonth(lake);
      // The earlier layouts: `dt=<d>.json` naming the checksum of `dt=<d>.keys`, which holds the digests (before
      // 2026-12-05), or holding them as base64 text (`keys`, until the digests got their own object).
      for (const name of (await readdir(parts)).filter((n) => /^dt=.*\.json$/.test(n))) {
        const { digests, ...record } = JSON.parse(await readFile(join(parts, name), 'utf8'));
        const keys = keysText(await digestsOf(join(parts, digests.key.split('/').at(-1)), digests.count));
        const earlier = name < `dt=${dayFromLast(-14)}` ? { ...record, keys_sha256: 'x' } : { ...record, keys };
        await writeFile(join(parts, name), JSON.stringify(earlier));
        if ('keys_sha256' in earlier) await writeFile(join(parts, name.replace('.json', '.keys')), keys);
        await rm(join(parts, digests.key.split('/').at(-1)));
      }
      w.queries.length = 0;
      expect(await w.kept()).toEqual(expected);
      expect(w.queries).toHaveLength(1);
      w.queries.length = 0;
      expect(await w.kept()).toEqual(expected);
      expect(w.queries).toEqual([]);
      const later = new Date(AS_OF.getTime() + 3 * 86_400_000);
      expect(await w.kept(later)).toEqual(await w.queried(later));
      const digests = (await readdir(parts)).filter((name) => name.endsWith('.keys')).sort();
      expect(digests[0]).toBe(`dt=${dayFromLast(-26)}.keys`);
    });
  });

  it('drop the parts of partitions the window moved past', async () => {
    await withLake(async (lake) => {
      await writeRawLake(lake, month, IDENTITIES);
      const w = await world(lake);
      await w.kept();
      const parts = join(w.folder, 'parts');
      expect(await readdir(parts)).toContain(`dt=${dayFromLast(-28)}.json`);
      const later = new Date(AS_OF.getTime() + 3 * 86_400_000);
      expect(await w.kept(later)).toEqual(await w.queried(later));
      const kept = (await readdir(parts)).filter((name) => name.startsWith('dt=')).sort();
      expect(kept[0]).toMatch(new RegExp(`^dt=${dayFromLast(-26)}\\.`));
      expect(kept.some((name) => name < `dt=${dayFromLast(-26)}`)).toBe(false);
    });
  });

  it('never use a part holding a row at or after the as-of', async () => {
    await withLake(async (lake) => {
      const today = AS_OF.toISOString().slice(0, 10);
      const later = { event_id: 'later', source: 'web', user_id: 'bob', event_name: 'visit', ts: `${today}T13:00:00Z` };
      const earlier = { ...later, event_id: 'earlier', ts: `${today}T09:00:00Z` };
      await writeRawLake(lake, [...month, later, earlier], IDENTITIES);
      const w = await world(lake);
      const afternoon = new Date(`${today}T14:00:00Z`);
      expect(await w.kept(afternoon)).toEqual(await w.queried(afternoon));
      expect(await w.kept()).toEqual(await w.queried());
      expect(await w.kept(afternoon)).toEqual(await w.queried(afternoon));
    });
  });
});

describe('what the local source checks keep', () => {
  it("is read by erasure's sweep (Parquet, JSON or text) and names no user or person id", async () => {
    await withLake(async (lake) => {
      await writeRawLake(lake, [...history('web', () => 3, 3), ...EVENTS], IDENTITIES);
      const w = await world(lake);
      await w.kept();
      const files = (await readdir(w.folder, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
      expect(files.map((f) => f.name)).toEqual(expect.arrayContaining(['identity-keys.json', `dt=${LAST_DAY}.json`]));
      for (const file of files) {
        const read = await fileValues(file.name, await readFile(join(file.parentPath, file.name)));
        expect(read).toHaveProperty('values');
        const values = 'values' in read ? read.values : new Set<string>();
        for (const id of ['ann@example.com', ' Ann@Example.com ', 'bob', 'carl', 'p_ann', 'p_carl', 'web_user_1'])
          expect(values.has(id)).toBe(false);
      }
    });
  });
});
