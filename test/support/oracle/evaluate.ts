import type { Bounds, Condition, EventFilter, OracleCohort, Window } from './conditions.ts';
import { byteOrder, type OracleEvent } from './lake-events.ts';
import { holds, isPresent, numericOf, textOf } from './property-values.ts';

/**
 * One person's membership in every cohort at as-of `asOf` (microseconds), from the person's events
 * alone, as SPEC sections 1 to 4 define it. Every rule reads only the person's own events, so the
 * oracle evaluates a person at a time.
 */

/** SPEC section 2, the window table; the caller has already dropped events at or after T. */
function inWindow(ts: number, window: Window, asOf: number): boolean {
  switch (window.kind) {
    case 'none':
      return true;
    case 'within':
      return asOf - window.span <= ts;
    case 'before':
      return ts < asOf - window.span;
    case 'between':
      return asOf - window.far <= ts && ts < asOf - window.near;
  }
}

/** SPEC section 4, "Event leaf": event_name, source, properties and window all match. */
function matches(event: OracleEvent, filter: EventFilter, asOf: number): boolean {
  if (filter.names !== '*' && !filter.names.includes(event.eventName)) return false;
  if (filter.sources && !filter.sources.includes(event.source)) return false;
  for (const [property, test] of filter.where) if (!holds(event.properties.get(property), test)) return false;
  return inWindow(event.ts, filter.window, asOf);
}

/** SPEC section 4: every bound must hold (an absent value, undefined, satisfies none). */
function withinBounds(value: number | undefined, bounds: Bounds): boolean {
  if (value === undefined) return false;
  return (
    (bounds.eq === undefined || value === bounds.eq) &&
    (bounds.gt === undefined || value > bounds.gt) &&
    (bounds.gte === undefined || value >= bounds.gte) &&
    (bounds.lt === undefined || value < bounds.lt) &&
    (bounds.lte === undefined || value <= bounds.lte)
  );
}

/** SPEC section 4 measures over the matching events: count, sum (of a property or of `value`), distinct texts. */
function measure(matching: readonly OracleEvent[], kind: 'count' | 'sum' | 'distinct', of: string | undefined): number {
  if (kind === 'count') return matching.length;
  if (kind === 'distinct') {
    const texts = new Set<string>();
    for (const event of matching) {
      const text = of === undefined ? undefined : textOf(event.properties.get(of));
      if (text !== undefined) texts.add(text);
    }
    return texts.size;
  }
  // Null or non-numeric values add nothing; `"12"` adds 12.
  return matching.reduce((sum, event) => sum + ((of === undefined ? event.value : numericOf(event.properties.get(of))) ?? 0), 0);
}

/** SPEC section 4, `latest`: greatest ts among events with the property non-null, ties to the greatest event_id in byte order. */
function latestValue(matching: readonly OracleEvent[], property: string) {
  let best: OracleEvent | undefined;
  for (const event of matching) {
    if (!isPresent(event.properties.get(property))) continue;
    if (!best || event.ts > best.ts || (event.ts === best.ts && byteOrder(event.eventId, best.eventId) > 0)) best = event;
  }
  return best?.properties.get(property);
}

/** SPEC section 4, `velocity`: current / previous; +infinity over 0, absent when both are 0. */
function velocity(matching: readonly OracleEvent[], span: number, asOf: number): number | undefined {
  const current = matching.filter((event) => asOf - span <= event.ts).length;
  const previous = matching.filter((event) => asOf - 2 * span <= event.ts && event.ts < asOf - span).length;
  if (previous === 0) return current > 0 ? Number.POSITIVE_INFINITY : undefined;
  return current / previous;
}

/**
 * The person's membership in each cohort (by id), or undefined when the person is outside the
 * population at `asOf` (SPEC section 1: no valid event with ts < T; such a person is never a member).
 * Events are in a fixed order (ts, then event_id) so that sums add in one order.
 */
export function evaluatePerson(
  events: readonly OracleEvent[],
  cohorts: readonly OracleCohort[],
  asOf: number,
): ReadonlyMap<string, boolean> | undefined {
  // SPEC section 2: events at or after T are invisible.
  const visible = events.filter((event) => event.ts < asOf).sort((a, b) => a.ts - b.ts || byteOrder(a.eventId, b.eventId));
  if (visible.length === 0) return undefined;
  const rules = new Map(cohorts.map((cohort) => [cohort.id, cohort.rule]));
  const memo = new Map<string, boolean>();
  const member = (id: string): boolean => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const rule = rules.get(id);
    if (!rule) throw new Error(`oracle: unknown cohort ${id}`);
    const result = satisfies(rule);
    memo.set(id, result);
    return result;
  };
  const satisfies = (condition: Condition): boolean => {
    switch (condition.kind) {
      case 'all':
        return condition.parts.every(satisfies);
      case 'any':
        return condition.parts.some(satisfies);
      case 'not':
        return !satisfies(condition.part);
      case 'cohort':
        return member(condition.id);
      case 'event': {
        const matching = visible.filter((event) => matches(event, condition.filter, asOf));
        return withinBounds(measure(matching, condition.measure, condition.of), condition.bounds);
      }
      case 'latest':
        return holds(
          latestValue(
            visible.filter((event) => matches(event, condition.filter, asOf)),
            condition.property,
          ),
          condition.test,
        );
      case 'velocity':
        return withinBounds(
          velocity(
            visible.filter((event) => matches(event, condition.filter, asOf)),
            condition.span,
            asOf,
          ),
          condition.bounds,
        );
    }
  };
  return new Map(cohorts.filter((cohort) => !cohort.deprecated).map((cohort) => [cohort.id, member(cohort.id)]));
}
