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
 * contested before (a rewrite may settle one).
 */
export function contestedFromIndexSql(index: string, candidates?: string): string {
  const among = candidates === undefined ? '' : ` WHERE event_id IN (SELECT event_id FROM ${candidates})`;
  return (
    `SELECT event_id, day FROM (\n  SELECT event_id, day, count(*) OVER (PARTITION BY event_id) AS days\n` +
    `  FROM (SELECT DISTINCT event_id, day FROM ${index} AS idx${among}) AS entries\n` +
    ') AS counted WHERE days > 1'
  );
}
