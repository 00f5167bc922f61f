import type { EventFilter } from '../language/ast.ts';
import { instantBefore } from '../language/window-duration.ts';
import type { Dialect } from './dialect.ts';
import { conjunction, disjunction } from './predicates.ts';
import { stringLiteral } from './sql-text.ts';

/**
 * The events a filter admits before its `where`: event names, sources and the instants of its
 * window (`from` inclusive, `to` exclusive, milliseconds since the epoch; absent: unbounded).
 */
export interface EventScope {
  readonly events: readonly string[] | '*';
  readonly sources?: readonly string[];
  readonly from?: number;
  readonly to?: number;
}

/**
 * The scope of a filter at as-of instant `asOf` (SPEC section 2 windows): the one place a window
 * becomes instants, for the filter's predicate and for the scan's partition pruning alike.
 */
export function scopeOf(filter: EventFilter, asOf: number): EventScope {
  const base = { events: filter.events, ...(filter.sources ? { sources: filter.sources } : {}) };
  const window = filter.window;
  if (!window) return base;
  if (window.kind === 'within') return { ...base, from: instantBefore(asOf, window.duration) };
  if (window.kind === 'before') return { ...base, to: instantBefore(asOf, window.duration) };
  return { ...base, from: instantBefore(asOf, window.from), to: instantBefore(asOf, window.to) };
}

/** The scope's conditions over the events relation `e`, in the order names, sources, from, to. */
export function scopeParts(scope: EventScope, dialect: Dialect): string[] {
  const parts: string[] = [];
  if (scope.events !== '*') parts.push(inList('e.event_name', scope.events));
  if (scope.sources) parts.push(inList('e.source', scope.sources));
  if (scope.from !== undefined) parts.push(`e.ts >= ${dialect.timestamp(scope.from)}`);
  if (scope.to !== undefined) parts.push(`e.ts < ${dialect.timestamp(scope.to)}`);
  return parts;
}

const within = (narrow: readonly string[] | undefined, wide: readonly string[] | undefined) =>
  wide === undefined || (narrow?.every((v) => wide.includes(v)) ?? false);

/** Whether every event `narrow` admits is admitted by `wide`. */
function implies(narrow: EventScope, wide: EventScope): boolean {
  return (
    within(narrow.events === '*' ? undefined : narrow.events, wide.events === '*' ? undefined : wide.events) &&
    within(narrow.sources, wide.sources) &&
    (wide.from === undefined || (narrow.from !== undefined && narrow.from >= wide.from)) &&
    (wide.to === undefined || (narrow.to !== undefined && narrow.to <= wide.to))
  );
}

/**
 * Whether an event lies in any of the scopes, as one condition over `e`; scopes that another
 * one covers are left out (TRUE once a scope admits every event).
 */
export function anyScopeSql(scopes: readonly EventScope[], dialect: Dialect): string {
  const kept = scopes.filter(
    (scope, i) => !scopes.some((other, j) => j !== i && implies(scope, other) && (j < i || !implies(other, scope))),
  );
  const conditions = kept.map((scope) => conjunction(scopeParts(scope, dialect)));
  return conditions.includes('TRUE') ? 'TRUE' : disjunction([...new Set(conditions)].sort());
}

/** `column = 'v'` or `column IN ('v', ...)`. */
export function inList(column: string, values: readonly string[]): string {
  if (values.length === 1) return `${column} = ${stringLiteral(values[0] as string)}`;
  return `${column} IN (${values.map(stringLiteral).join(', ')})`;
}
