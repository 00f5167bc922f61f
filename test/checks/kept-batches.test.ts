import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchesOf } from '../../shared/checks/batches-of.ts';
import { querySourceChecks } from '../../shared/checks/source-check-source.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { keptChecksOver } from './kept-support.ts';
import { AS_OF, dayFromLast, eventsOn, history, type RawEvent, sortedRows, withLake, writeRawLake } from './support.ts';

let connection: DuckDBConnection;
beforeAll(async () => {
  connection = await openDuckDb();
});
afterAll(() => connection.closeSync());

/** Every file under a folder, by its path there, with its text (a part's record with its rows in a stable order: the engine's order is its own). */
async function filesUnder(dir: string): Promise<Record<string, string>> {
  const names = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  const stable = (text: string) => {
    const record = JSON.parse(text);
    return Array.isArray(record.rows) ? { ...record, rows: sortedRows(record.rows) } : record;
  };
  const entries = await Promise.all(
    names.map(async (e) => {
      const text = await readFile(join(e.parentPath, e.name), 'utf8');
      return [join(e.parentPath, e.name).slice(dir.length), e.name.endsWith('.json') ? stable(text) : text] as const;
    }),
  );
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * A month of two sources with what a part must get right: copies of an event in its partition,
 * rows whose ts lies in the neighbouring day (and three days off), invalid rows, an empty
 * partition, today's rows before and after T; `shared`: an event also copied into another partition.
 */
async function writeMonth(lake: string, shared: boolean): Promise<void> {
  const web = history('web', (before) => 5 + (before % 4), 6);
  const app = [-20, -12, -11, -3].flatMap((offset) => eventsOn('app', dayFromLast(offset), 4));
  const copy = web[10] as RawEvent;
  const edges: RawEvent[] = [
    copy,
    { ...(eventsOn('web', dayFromLast(-9), 1, 'late')[0] as RawEvent), ts: `${dayFromLast(-8)}T00:30:00Z`, dt: dayFromLast(-9) },
    { ...(eventsOn('web', dayFromLast(-9), 1, 'early')[0] as RawEvent), ts: `${dayFromLast(-10)}T23:30:00Z`, dt: dayFromLast(-9) },
    { ...(eventsOn('app', dayFromLast(-6), 1, 'far')[0] as RawEvent), ts: `${dayFromLast(-3)}T08:00:00Z`, dt: dayFromLast(-6) },
    { ...(eventsOn('app', dayFromLast(-5), 1, 'nouser')[0] as RawEvent), user_id: null },
    { event_id: 'today-1', source: 'web', user_id: 'u1', event_name: 'visit', ts: '2024-06-15T08:00:00Z' },
    { event_id: 'later-1', source: 'web', user_id: 'u1', event_name: 'visit', ts: '2024-06-15T13:00:00Z' },
    ...(shared ? [{ ...copy, dt: dayFromLast(-14) }] : []),
  ];
  await writeRawLake(lake, [...web, ...app, ...edges]);
  await mkdir(join(lake, 'events', `dt=${dayFromLast(-29)}`), { recursive: true });
  await writeFile(join(lake, 'events', `dt=${dayFromLast(-29)}`, 'events.jsonl'), '');
}

describe('the kept source checks compute missing parts in batches', () => {
  it('cut partitions in order into batches within a byte budget, a larger partition alone', () => {
    const sizes: Record<string, number> = { a: 3, b: 4, c: 10, d: 1, e: 2, f: 0 };
    expect(batchesOf(Object.keys(sizes), (p) => sizes[p] as number, 7)).toEqual([['a', 'b'], ['c'], ['d', 'e', 'f']]);
    expect(batchesOf(Object.keys(sizes), (p) => sizes[p] as number, 1)).toEqual([['a'], ['b'], ['c'], ['d'], ['e'], ['f']]);
    expect(batchesOf(Object.keys(sizes), (p) => sizes[p] as number, 100)).toEqual([Object.keys(sizes)]);
    expect(batchesOf([], () => 1, 7)).toEqual([]);
  });

  for (const shared of [false, true]) {
    it(`keep the same parts and return the query's rows however batched${shared ? ', an event shared by two partitions' : ''}`, async () => {
      await withLake(async (lake) => {
        await writeMonth(lake, shared);
        const engine = new DuckDbEngine(connection, lake);
        const expected = sortedRows(await querySourceChecks(engine).rows(AS_OF, await engine.lake()));
        const kept: Record<string, unknown>[] = [];
        const statements: number[] = [];
        // One batch (the default budget), each partition alone, and about four partitions a batch.
        for (const batchBytes of [undefined, 1, 2000]) {
          const state = await mkdtemp(join(tmpdir(), 'kept-batches-'));
          try {
            let byParts = 0;
            const counted = Object.assign(Object.create(engine) as DuckDbEngine, {
              rows: (sql: string) => {
                if (sql.includes('source checks by parts')) byParts += 1;
                return engine.rows(sql);
              },
            });
            const checks = keptChecksOver(counted, lake, state, 'checks/parts/', batchBytes);
            expect(sortedRows(await checks.rows(AS_OF))).toEqual(expected);
            statements.push(byParts);
            kept.push(await filesUnder(state));
          } finally {
            await rm(state, { recursive: true, force: true });
          }
        }
        // 31 partitions have files: the empty one, 29 days of history and T's (not kept: it holds a row after T).
        expect(statements[0]).toBe(1);
        expect(statements[1]).toBe(31);
        expect(statements[2]).toBeGreaterThan(2);
        expect(statements[2]).toBeLessThan(31);
        expect(Object.keys(kept[0] ?? {}).filter((key) => key.endsWith('.digests'))).toHaveLength(30);
        expect(Object.keys(kept[0] ?? {})).toContain(`/checks/parts/dt=${dayFromLast(-29)}.json`);
        expect(kept[1]).toEqual(kept[0]);
        expect(kept[2]).toEqual(kept[0]);
      });
    });
  }

  it('stop computing when out of time: the parts computed are kept, the window read at once, and later runs go on from them', async () => {
    await withLake(async (lake) => {
      await writeMonth(lake, false);
      const engine = new DuckDbEngine(connection, lake);
      const expected = sortedRows(await querySourceChecks(engine).rows(AS_OF, await engine.lake()));
      // Each statement computing parts takes 10 "ms" of a clock only they move; a run may spend 25.
      let clock = 0;
      let byParts = 0;
      let atOnce = 0;
      const timed = Object.assign(Object.create(engine) as DuckDbEngine, {
        rows: (sql: string) => {
          if (sql.includes('source checks by parts')) {
            byParts += 1;
            clock += 10;
          } else if (sql.includes('source checks as of')) atOnce += 1;
          return engine.rows(sql);
        },
      });
      const budgeted = await mkdtemp(join(tmpdir(), 'kept-budget-'));
      const unlimited = await mkdtemp(join(tmpdir(), 'kept-unlimited-'));
      try {
        const checks = keptChecksOver(timed, lake, budgeted, 'checks/parts/', 1, { computeBudgetMs: 25, nowMs: () => clock });
        const runs: { byParts: number; atOnce: number }[] = [];
        for (let run = 0; run < 20; run += 1) {
          [byParts, atOnce] = [0, 0];
          expect(sortedRows(await checks.rows(AS_OF))).toEqual(expected);
          runs.push({ byParts, atOnce });
          if (atOnce === 0) break;
        }
        // 31 partitions, one a statement, three a run (the third started within the budget): ten runs read the window at once.
        expect(runs.slice(0, -1)).toEqual(Array.from({ length: 10 }, () => ({ byParts: 3, atOnce: 1 })));
        expect(runs.at(-1)).toEqual({ byParts: 1, atOnce: 0 });
        // Kept as a run without a budget keeps them, no digests of a replaced record left behind.
        expect(sortedRows(await keptChecksOver(engine, lake, unlimited, 'checks/parts/', 1).rows(AS_OF))).toEqual(expected);
        expect(await filesUnder(budgeted)).toEqual(await filesUnder(unlimited));
      } finally {
        await rm(budgeted, { recursive: true, force: true });
        await rm(unlimited, { recursive: true, force: true });
      }
    });
  });
});
