import type { Dialect } from './dialect.ts';
import { normalizedIdSql, presentIdSql } from './normalize-id.ts';

/**
 * The rows every evaluation reads, written once for the refresh query and the tiles: the valid
 * events of the lake (SPEC section 1) and the columns each property read adds to them.
 */

/** The JSON number grammar of SPEC section 4: a value whose text matches it is numeric. */
export const NUMERIC_TEXT = '-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?';

/** The number a text holds when it is a JSON number (SPEC section 4), else NULL. */
export function numberOfTextSql(d: Dialect, text: string): string {
  return `CASE WHEN ${d.fullMatch(text, NUMERIC_TEXT)} THEN ${d.tryDouble(text)} END`;
}

/** Property `i`'s JSON value, `p<i>_j`. */
export const propertyJsonItem = (d: Dialect, i: number): string => `${d.propertyJson(i)} AS p${i}_j`;

/** Property `i`'s text, `p<i>_t`, and whether it is present, `p<i>_x`. */
export const propertyValueItems = (d: Dialect, i: number): string[] => [
  `${d.scalarText(`p${i}_j`)} AS p${i}_t`,
  `${d.present(`p${i}_j`)} AS p${i}_x`,
];

/** Property `i`'s number, `p<i>_n`. */
export const propertyNumberItem = (d: Dialect, i: number): string => `${numberOfTextSql(d, `p${i}_t`)} AS p${i}_n`;

/** Select items after others on the same line: `, a, b`. */
export function moreItems(items: readonly string[]): string {
  return items.map((item) => `, ${item}`).join('');
}

/** A text column that is neither NULL nor empty. */
export function nonEmpty(column: string): string {
  return `${column} IS NOT NULL AND ${column} <> ''`;
}

/** What {@link validEventLines} reads. */
export interface ValidEventsScan {
  /** The events relation. */
  readonly events: string;
  /** The condition on `dt` that prunes the partitions read. */
  readonly partitions: string;
  /** Columns after `event_id, source, user_key, event_name, ts` (`properties`, `value`). */
  readonly extra: readonly string[];
  /** The instants kept: `[from, to)`, or everything before `to`. */
  readonly from?: number;
  readonly to: number;
}

/** The valid events (SPEC section 1) of a scan, with the normalized user id as `user_key`, as query lines. */
export function validEventLines(d: Dialect, scan: ValidEventsScan): string[] {
  const columns = ['event_id', 'source', 'user_key', 'event_name', 'ts', ...scan.extra].join(', ');
  const since = scan.from === undefined ? '' : ` AND ts >= ${d.timestamp(scan.from)}`;
  return [
    `SELECT ${columns}`,
    'FROM (',
    `  SELECT event_id, source, ${normalizedIdSql(d, 'user_id')} AS user_key, event_name, ts${moreItems(scan.extra)}`,
    `  FROM ${scan.events} AS lake_events`,
    `  WHERE ${scan.partitions} AND ${presentIdSql(d, 'user_id')}`,
    ') AS scanned',
    `WHERE ${nonEmpty('event_id')} AND ${nonEmpty('source')} AND ${nonEmpty('event_name')}`,
    `  AND ts IS NOT NULL AND ts < ${d.timestamp(scan.to)}${since}`,
  ];
}
