/**
 * `npx tsx bench/carry-delta-bench.ts`: would a small delta file beside the carried count partials pay (issue 14, (d))?
 * Over a copy of `d-phases-bench.ts`'s kept state (`bench/.cache/d-state-<people>-<days>`, run that first): one new day
 * appended, the refresh as of X + 1 day run as it ships (the wide file moved by the day: the move's statement and the
 * evaluate query caught), then, alternated BENCH_ROUNDS times in one process (CPU seconds: the machine is shared):
 * - `move`: the move as it ships (the old wide file joined to the entering and leaving days' rows, written whole);
 * - `delta`: the entering and leaving days' rows alone (carryWideSql without carried rows), written as a file;
 * - `eval`: the evaluate query over the moved file; `eval+delta`: the same over the old wide file (its columns placed
 *   as the uses' now) UNION ALL the delta file.
 * Both evaluate queries' rows are compared (`EXCEPT ALL` both ways, `m_value` left out: a double sum in an engine's order).
 * A key's count is its wide count plus its delta count, so the union read by the per-person step (which adds a person's
 * rows up) gives the same members. Not kept (bench/RESULTS.md, How tiles work): the delta of one day holds about half the
 * wide file's keys.
 */
import { copyFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { stringLiteral } from '../shared/compiler/sql-text.ts';
import { CARRIED_COUNTS } from '../shared/local/local-carry.ts';
import { CARRIED_COUNTS_PARQUET_OPTIONS } from '../shared/local/tile-parquet.ts';
import { type CarryColumn, type CarryTiles, carriedColumn, carryWideSql } from '../shared/tiles/carry-sql.ts';
import { appendNewDay, tiledRefresh } from './bench-state.ts';
import { cpuSeconds, END, keptDState, NEXT } from './kept-d-state.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const { lake, source, connection, engine, state } = await keptDState('cohorts-carry-delta-');
const partials = join(state, 'tiles', 'partials', 'partials.parquet');
const oldWide = join(state, 'old-wide.parquet');
await copyFile(partials, oldWide);

let evaluate: string | undefined;
let move: string | undefined;
const run = connection.run.bind(connection);
connection.run = ((sql: string, ...rest: unknown[]) => {
  if (/^CREATE OR REPLACE TEMP TABLE "membership_/.test(sql))
    evaluate = sql.replace(/^CREATE OR REPLACE TEMP TABLE "membership_[^"]*" AS/, '');
  return (run as (...a: unknown[]) => ReturnType<typeof run>)(sql, ...rest);
}) as typeof connection.run;
let args: { carried: string | undefined; tiles: CarryTiles | undefined; columns: readonly CarryColumn[] } | undefined;
// The move's arguments caught as the refresh makes its SQL.
const kind = CARRIED_COUNTS as { sql: typeof CARRIED_COUNTS.sql };
const sqlOf = kind.sql;
kind.sql = (carried, tiles, columns) => {
  args = { carried, tiles, columns };
  move = sqlOf(carried, tiles, columns);
  return move;
};

const cpu = (sql: string) => cpuSeconds(connection, sql);

let newDay: string | undefined;
try {
  newDay = await appendNewDay(connection, lake, END);
  await tiledRefresh(engine, state, source, NEXT);
  if (evaluate === undefined || move === undefined || args === undefined) throw new Error('the move or the evaluate query was not caught');
  const { tiles, columns } = args;
  const deltaFile = join(state, 'delta.parquet');
  const deltaSql = carryWideSql(
    undefined,
    tiles,
    columns.map((c) => ({ ...(c.add ? { add: c.add } : {}), ...(c.subtract ? { subtract: c.subtract } : {}) })),
  );
  const placed = columns.map((c, i) => `${c.from === undefined ? 'CAST(0 AS BIGINT)' : carriedColumn(c.from)} AS ${carriedColumn(i)}`);
  const union = `(SELECT source, user_key, ${placed.join(', ')} FROM read_parquet(${stringLiteral(oldWide)}) UNION ALL SELECT * FROM read_parquet(${stringLiteral(deltaFile)}))`;
  const carriedRelation = `read_parquet(${stringLiteral(partials)}, hive_partitioning = false)`;
  if (!evaluate.includes(carriedRelation)) throw new Error('the evaluate query does not read the carried file');
  const evaluateDelta = evaluate.split(carriedRelation).join(union);
  const movedAgain = join(state, 'moved-again.parquet');
  const times: Record<string, number[]> = { move: [], delta: [], eval: [], 'eval+delta': [] };
  for (let round = 0; round < ROUNDS; round += 1) {
    times.move?.push(await cpu(`COPY (${move}) TO ${stringLiteral(movedAgain)} (${CARRIED_COUNTS_PARQUET_OPTIONS})`));
    times.delta?.push(await cpu(`COPY (${deltaSql}) TO ${stringLiteral(deltaFile)} (${CARRIED_COUNTS_PARQUET_OPTIONS})`));
    times.eval?.push(await cpu(`CREATE OR REPLACE TEMP TABLE bench_eval AS ${evaluate}`));
    times['eval+delta']?.push(await cpu(`CREATE OR REPLACE TEMP TABLE bench_eval_delta AS ${evaluateDelta}`));
  }
  const count = async (sql: string) => Number((await connection.runAndReadAll(sql)).getRows()[0]?.[0]);
  const rows = await count('SELECT count(*) FROM bench_eval');
  const a = 'SELECT * EXCLUDE (m_value) FROM bench_eval';
  const b = 'SELECT * EXCLUDE (m_value) FROM bench_eval_delta';
  const differ =
    (await count(`SELECT count(*) FROM (${a} EXCEPT ALL ${b})`)) + (await count(`SELECT count(*) FROM (${b} EXCEPT ALL ${a})`));
  const keys = async (file: string) => count(`SELECT count(*) FROM read_parquet(${stringLiteral(file)})`);
  const show = (xs: number[] | undefined) => (xs ?? []).map((x) => x.toFixed(2)).join(', ');
  process.stdout.write(
    `s CPU: ${Object.entries(times)
      .map(([k, v]) => `${k} ${show(v)}`)
      .join(
        '; ',
      )}\nrows ${rows}, differing ${differ}; wide ${await keys(movedAgain)} keys, old wide ${await keys(oldWide)}, delta ${await keys(deltaFile)}\n`,
  );
} finally {
  if (newDay) await rm(newDay, { force: true });
  await rm(state, { recursive: true, force: true });
}
