/**
 * `npx tsx bench/latest-carry-bench.ts`: the (d) refresh's evaluate query with the all-history `latest` uses read from
 * their tile rows and from the carried `latest` rows, alternated in one process (CPU seconds: the machine is shared).
 * Over a copy of `d-phases-bench.ts`'s kept state (`bench/.cache/d-state-<people>-<days>`, run that first): the refresh
 * as of X (the carried rows computed from every tile day), one new day appended, the refresh as of X + 1 day (the
 * rows moved by it), then the same refresh without the carried rows; both evaluate queries caught and run again
 * BENCH_ROUNDS times each, and their rows compared (`EXCEPT ALL` both ways). BENCH_PEOPLE, BENCH_DAYS as there.
 */
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { LocalTiles } from '../shared/local/local-tile-store.ts';
import { appendNewDay, tiledRefresh } from './bench-state.ts';
import { cpuSeconds, END, keptDState, NEXT } from './kept-d-state.ts';
import { profileStatements, takeStatements } from './statement-profile.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const { lake, source, connection, engine, state } = await keptDState('cohorts-latest-carry-');

// The evaluate query of the last refresh, caught as it runs.
let caught: string | undefined;
let move: string | undefined;
const run = connection.run.bind(connection);
connection.run = ((sql: string, ...rest: unknown[]) => {
  if (/^COPY \(SELECT CASE WHEN d\.use_index/.test(sql)) move = sql;
  if (/^CREATE OR REPLACE TEMP TABLE "membership_/.test(sql))
    caught = sql.replace(/^CREATE OR REPLACE TEMP TABLE "membership_[^"]*" AS/, '');
  return (run as (...a: unknown[]) => ReturnType<typeof run>)(sql, ...rest);
}) as typeof connection.run;
profileStatements(connection);

const cpu = (sql: string) => cpuSeconds(connection, sql);

let newDay: string | undefined;
try {
  await tiledRefresh(engine, state, source, END);
  process.stdout.write(`as of X (carried latest rows computed):\n${takeStatements().split('\n').slice(0, 6).join('\n')}\n`);
  newDay = await appendNewDay(connection, lake, END);
  await tiledRefresh(engine, state, source, NEXT);
  const carried = caught as string;
  process.stdout.write(`as of X + 1 (moved by the new day):\n${takeStatements().split('\n').slice(0, 8).join('\n')}\n`);
  const carry = LocalTiles.prototype.carry;
  LocalTiles.prototype.carry = function (this: LocalTiles, days, uses) {
    return carry.call(this, days, uses, []);
  };
  await tiledRefresh(engine, state, source, NEXT);
  LocalTiles.prototype.carry = carry;
  const tiles = caught as string;
  if (!carried.includes('latest.parquet') || tiles.includes('latest.parquet')) throw new Error('the queries are not the two variants');
  if (move === undefined) throw new Error('the carried latest rows were not moved');
  // The move again, into a file of its own (it reads the carried rows it replaced: as many keys).
  const moveAgain = move.replace(/\) TO '[^']*' \(/, `) TO '${join(state, 'moved-again.parquet')}' (`);
  const times: Record<string, number[]> = { tiles: [], carried: [], move: [] };
  for (let round = 0; round < ROUNDS; round += 1) {
    times.tiles?.push(await cpu(`CREATE OR REPLACE TEMP TABLE bench_tiles AS ${tiles}`));
    times.carried?.push(await cpu(`CREATE OR REPLACE TEMP TABLE bench_carried AS ${carried}`));
    times.move?.push(await cpu(moveAgain));
  }
  const count = async (sql: string) => Number((await connection.runAndReadAll(sql)).getRows()[0]?.[0]);
  const rows = await count('SELECT count(*) FROM bench_tiles');
  const differ =
    (await count('SELECT count(*) FROM (SELECT * FROM bench_tiles EXCEPT ALL SELECT * FROM bench_carried)')) +
    (await count('SELECT count(*) FROM (SELECT * FROM bench_carried EXCEPT ALL SELECT * FROM bench_tiles)'));
  if (differ > 0) {
    const sample = await connection.runAndReadAll(
      'SELECT * FROM (SELECT *, 1 AS side FROM (SELECT * FROM bench_tiles EXCEPT ALL SELECT * FROM bench_carried) UNION ALL SELECT *, 2 AS side FROM (SELECT * FROM bench_carried EXCEPT ALL SELECT * FROM bench_tiles)) ORDER BY person_id, side LIMIT 8',
    );
    for (const row of sample.getRowObjects()) {
      process.stdout.write(`${JSON.stringify(row, (_, v) => (typeof v === 'bigint' ? Number(v) : v))}\n`);
    }
  }
  const show = (xs: number[] | undefined) => (xs ?? []).map((x) => x.toFixed(2)).join(', ');
  process.stdout.write(
    `evaluate query, s CPU: tiles ${show(times.tiles)}; carried ${show(times.carried)}; the move ${show(times.move)}\nrows ${rows}, differing ${differ}\n`,
  );
} finally {
  if (newDay) await rm(newDay, { force: true });
  await rm(state, { recursive: true, force: true });
}
