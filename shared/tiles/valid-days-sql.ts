import type { Dialect } from '../compiler/dialect.ts';
import { validEventsSql } from './tile-sql.ts';

/** An instant after every date a lake holds: the valid events of any day. */
const END_OF_DATES = Date.UTC(9999, 11, 31);

/**
 * The UTC days (`day`, YYYY-MM-DD) of the valid events of `events`, each once: which tile days a
 * file added to a day's partitions can change (issue 15: a day none of them falls on is kept).
 */
export function validDaysSql(d: Dialect, events: string): string {
  return `SELECT DISTINCT ${d.utcDay('ts')} AS day FROM (${validEventsSql(d, events, { to: END_OF_DATES })}) AS v`;
}
