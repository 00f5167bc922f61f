import type { Condition, EventFilter } from './ast.ts';
import { leaves } from './condition-leaves.ts';
import { leafFilters } from './leaf-filters.ts';

/** The events and sources a rule reads through its event, latest, velocity and sequence leaves. */
export interface SourceReads {
  /** Some leaf reads any event name (`event: "*"`). */
  readonly allEvents: boolean;
  /** Event names leaves name, sorted. */
  readonly events: readonly string[];
  /** Sources leaves name, sorted. */
  readonly sources: readonly string[];
  /** Some leaf has no source filter, so it reads every source. */
  readonly anySource: boolean;
}

function filters(condition: Condition): EventFilter[] {
  return leaves(condition).flatMap(leafFilters);
}

/** What the leaves of the given rules read (pass several rules to merge them). */
export function sourceReads(rules: readonly Condition[]): SourceReads {
  const all = rules.flatMap(filters);
  return {
    allEvents: all.some((f) => f.events === '*'),
    events: [...new Set(all.flatMap((f) => (f.events === '*' ? [] : f.events)))].sort(),
    sources: [...new Set(all.flatMap((f) => f.sources ?? []))].sort(),
    anySource: all.some((f) => f.sources === undefined || f.sources.length === 0),
  };
}

/** True when the rules read no event at all (they only combine other cohorts). */
export function readsNothing(reads: SourceReads): boolean {
  return !reads.allEvents && reads.events.length === 0 && reads.sources.length === 0 && !reads.anySource;
}
