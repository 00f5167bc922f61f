import type { PropertyOps } from '../language/ast.ts';
import { instantAfter, instantBefore } from '../language/window-duration.ts';
import type { Dialect } from './dialect.ts';

/** The as-of instant the date operators compare with, and the engine that reads the value's text. */
export interface AsOfInstant {
  readonly dialect: Dialect;
  /** T, milliseconds since the epoch. */
  readonly instant: number;
}

/** Whether `ops` has a date operator, which compares with the as-of instant. */
export const hasDateOperator = (ops: PropertyOps): boolean =>
  ops.before !== undefined || ops.within !== undefined || ops.within_next !== undefined;

/**
 * Each date operator of `ops` (issue 16: `before`, `within`, `within_next`) on a value's text
 * read with the lake's own `ts` parser (SPEC section 1 grammar; unparsable: NULL), against instants
 * worked out here (calendar months clamped), so both dialects compare with the same literals. Every part is
 * never NULL: a missing or unparsable value satisfies none of them.
 */
export function datePredicates(text: string, ops: PropertyOps, asOf: AsOfInstant | undefined): string[] {
  if (!hasDateOperator(ops)) return [];
  if (asOf === undefined) throw new Error('date operators (before, within, within_next) compare with the as-of instant: none was given');
  const d = asOf.dialect;
  const T = asOf.instant;
  const value = d.parseTimestamp(text);
  const holds = (condition: string) => `coalesce(${condition}, false)`;
  const parts: string[] = [];
  if (ops.before !== undefined) parts.push(holds(`${value} < ${d.timestamp(instantBefore(T, ops.before))}`));
  if (ops.within !== undefined) {
    parts.push(holds(`${value} >= ${d.timestamp(instantBefore(T, ops.within))} AND ${value} < ${d.timestamp(T)}`));
  }
  if (ops.within_next !== undefined) {
    parts.push(holds(`${value} >= ${d.timestamp(T)} AND ${value} < ${d.timestamp(instantAfter(T, ops.within_next))}`));
  }
  return parts;
}
