import type { Dialect } from '../compiler/dialect.ts';
import { stringLiteral } from '../compiler/sql-text.ts';
import { DAY_MS } from './day-split.ts';
import { validEventsSql } from './tile-sql.ts';

/**
 * The index of counted event ids (issue 14): per UTC day, the distinct ids of the valid events
 * whose `ts` falls on it. An id on more than one day of the index is contested: tiles leave it
 * out and refreshes read its copies raw. A new or rebuilt day is checked against the index only,
 * never against the lake. Both engines run these builders (locally Parquet per day, in the cloud
 * a Glue table partitioned by day).
 */

/** The distinct valid event ids of `days` (YYYY-MM-DD), as rows `event_id, day`: the index entries of those days. */
export function dayIdsSql(d: Dialect, events: string, days: readonly string[]): string {
  const starts = days.map((day) => Date.parse(`${day}T00:00:00Z`));
  const range = { from: Math.min(...starts), to: Math.max(...starts) + DAY_MS };
  const wanted = days.map(stringLiteral).join(', ');
  return (
    `SELECT DISTINCT event_id, day FROM (SELECT event_id, ${d.utcDay('ts')} AS day FROM (${validEventsSql(d, events, range)}) AS v) AS ids\n` +
    `WHERE day IN (${wanted})`
  );
}

/**
 * The contested ids among `candidates` (a relation with an `event_id` column; none: every id of
 * the index, as on a first build), with every day of the index that holds them (`event_id, day`):
 * the ids on more than one day. The candidates are the ids of the days just indexed and the ids
 * contested before (a rewrite may settle one). `key: 'h'`: the same over the ids' hashes (see {@link idHashSql}).
 */
export function contestedFromIndexSql(index: string, candidates?: string, key: 'event_id' | 'h' = 'event_id'): string {
  const among = candidates === undefined ? '' : ` WHERE ${key} IN (SELECT ${key} FROM ${candidates})`;
  return (
    `SELECT ${key}, day FROM (\n  SELECT ${key}, day, count(*) OVER (PARTITION BY ${key}) AS days\n` +
    `  FROM (SELECT DISTINCT ${key}, day FROM ${index} AS idx${among}) AS entries\n` +
    ') AS counted WHERE days > 1'
  );
}

/**
 * DuckDB only (the local index): the 64-bit hash of an event id kept beside it, `h`, the low half of
 * its MD5 (a fixed function, the same in every DuckDB version). A refresh first finds the hashes of
 * its candidates that lie on more than one day, reading that one fixed-width column of every day of
 * the index (about 20x less than the ids themselves), then compares the ids themselves on the days
 * holding those hashes only: an id on two days has its hash on both, so nothing is missed, and a
 * hash shared by two different ids only costs a read.
 */
export const idHashSql = (column: string): string => `md5_number_lower(${column})`;

/**
 * DuckDB only: the rows (`event_id, day`) of `index` (with `h`) whose hash lies on more than one of its
 * rows, the input of {@link contestedFromIndexSql} when every indexed id is a candidate (a first build).
 * Each row of an id on two days is kept (its hash is on both); an id that shares its hash with
 * another only costs a comparison, which leaves it out. The shared hashes are found by sorting them
 * (each compared with the next): at 10M indexed ids 1.5 s CPU, where the window over every id took 8.6.
 */
export function sharedHashRowsSql(index: string): string {
  const shared = `SELECT h FROM (SELECT h, lead(h) OVER (ORDER BY h) AS next_h FROM ${index} AS hashes) AS sorted WHERE h = next_h`;
  return `(SELECT event_id, day FROM ${index} AS hashed WHERE h IN (${shared}))`;
}

/** DuckDB only: {@link dayIdsSql} with each id's hash (`event_id, h, day`). */
export function hashedDayIdsSql(d: Dialect, events: string, days: readonly string[]): string {
  return `SELECT event_id, ${idHashSql('event_id')} AS h, day FROM (${dayIdsSql(d, events, days)}) AS ids`;
}
