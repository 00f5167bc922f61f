import { createHash } from 'node:crypto';
import { hasDateOperator } from '../compiler/date-predicates.ts';
import type { MetricSettings } from '../config/schema.ts';
import type { CohortDefinition, EventFilter, PropertyFilter, PropertyOps, Window } from '../language/ast.ts';
import { periodRanges } from '../compiler/periods.ts';
import { type Leaf, leaves } from '../language/condition-leaves.ts';
import { stepFilters } from '../language/leaf-filters.ts';
import { instantBefore } from '../language/window-duration.ts';

/** What a measure aggregates per identity key and day (issue 14: the tile's partial aggregate). */
export type TileAggregate =
  | { readonly kind: 'count' }
  | { readonly kind: 'sum'; readonly of?: string }
  | { readonly kind: 'distinct'; readonly of: string }
  | { readonly kind: 'latest'; readonly of: string }
  | { readonly kind: 'earliest'; readonly of: string };

/** The events a measure looks at: a filter without its window (windows are assembled from days). */
export interface TileScope {
  readonly events: readonly string[] | '*';
  readonly sources?: readonly string[];
  readonly where: readonly PropertyFilter[];
}

/** One distinct measure of a catalog: scope and aggregate, named by a hash of their canonical form. */
export interface TileMeasure {
  /** `m` and 16 hex digits of the sha256 of `key`: the same measure has the same id in every catalog. */
  readonly id: string;
  /** The canonical JSON of scope and aggregate. */
  readonly key: string;
  readonly scope: TileScope;
  readonly aggregate: TileAggregate;
}

/** An instant range `[from, to)` in milliseconds since the epoch; `from` absent: all history. */
export interface InstantRange {
  readonly from?: number;
  readonly to: number;
}

/** How a leaf reads one measure: over which window at the as-of instant. */
export interface MeasureUse {
  readonly measure: TileMeasure;
  readonly range: InstantRange;
  /** A step of a sequence: read raw over its window (tiles cannot keep the order of events), never tiled. */
  readonly step?: true;
}

const sorted = (values: readonly string[]) => [...new Set(values)].sort();

/** Operators with their keys in one order and `in`/`not_in` lists sorted (their order means nothing). */
function canonicalOps(ops: PropertyOps): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(ops).sort() as (keyof PropertyOps)[]) {
    const value = ops[key];
    out[key] = Array.isArray(value) ? [...value].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)) : value;
  }
  return out;
}

/** The measure of a filter's scope and an aggregate. */
export function tileMeasure(filter: EventFilter, aggregate: TileAggregate): TileMeasure {
  const scope: TileScope = {
    events: filter.events === '*' ? '*' : sorted(filter.events),
    ...(filter.sources ? { sources: sorted(filter.sources) } : {}),
    where: [...filter.where].sort((a, b) => (a.property < b.property ? -1 : a.property > b.property ? 1 : 0)),
  };
  const key = JSON.stringify({
    events: scope.events,
    sources: scope.sources ?? null,
    where: scope.where.map((w) => [w.property, canonicalOps(w.ops)]),
    aggregate: [aggregate.kind, 'of' in aggregate ? (aggregate.of ?? null) : null],
  });
  return { id: `m${createHash('sha256').update(key).digest('hex').slice(0, 16)}`, key, scope, aggregate };
}

/** The instants a window admits at `asOf` (SPEC section 2). */
export function windowRange(window: Window | undefined, asOf: number): InstantRange {
  if (!window) return { to: asOf };
  if (window.kind === 'within') return { from: instantBefore(asOf, window.duration), to: asOf };
  if (window.kind === 'before') return { to: instantBefore(asOf, window.duration) };
  return { from: instantBefore(asOf, window.from), to: instantBefore(asOf, window.to) };
}

/** The measures a leaf reads and their windows; none for a cohort reference. */
export function leafUses(leaf: Leaf, asOf: number): MeasureUse[] {
  switch (leaf.kind) {
    case 'cohort':
    case 'list':
      return [];
    case 'event': {
      const m = leaf.measure;
      const aggregate: TileAggregate =
        m.kind === 'count'
          ? { kind: 'count' }
          : m.kind === 'sum'
            ? { kind: 'sum', ...(m.of === undefined ? {} : { of: m.of }) }
            : { kind: 'distinct', of: m.of };
      return [{ measure: tileMeasure(leaf.filter, aggregate), range: windowRange(leaf.filter.window, asOf) }];
    }
    case 'latest':
    case 'earliest':
      return [{ measure: tileMeasure(leaf.filter, { kind: leaf.kind, of: leaf.property }), range: windowRange(leaf.filter.window, asOf) }];
    case 'velocity': {
      // Current [T - w, T), then previous [T - 2w, T - w): two windows of one count.
      const [current, previous] = [instantBefore(asOf, leaf.window), instantBefore(asOf, leaf.window, 2)];
      const measure = tileMeasure(leaf.filter, { kind: 'count' });
      return [
        { measure, range: { from: current, to: asOf } },
        { measure, range: { from: previous, to: current } },
      ];
    }
    case 'sequence': {
      const range = windowRange(leaf.window, asOf);
      return stepFilters(leaf).map((filter) => ({ measure: tileMeasure(filter, { kind: 'count' }), range, step: true }));
    }
    case 'periods': {
      // One count over each period, newest first (exact from day tiles when the edges are midnights).
      const measure = tileMeasure(leaf.filter, { kind: 'count' });
      return periodRanges(leaf.periods, asOf).map((range) => ({ measure, range }));
    }
  }
}

/** The uses of the KPI metrics: a count of activation events and a sum of `value`. */
export function metricUses(metrics: MetricSettings, asOf: number): MeasureUse[] {
  return [
    { measure: tileMeasure(metrics.activation, { kind: 'count' }), range: windowRange(metrics.activation.window, asOf) },
    { measure: tileMeasure(metrics.value, { kind: 'sum' }), range: windowRange(metrics.value.window, asOf) },
  ];
}

/**
 * Whether a measure is always read from raw events over its window, never from tiles (issue 16):
 * `earliest` (a tile aggregate of its own would change the tile layout), and a scope whose
 * `where` has a date operator (it compares with the as-of instant, which a day's tile does not
 * know). Lineage names them among the raw measures.
 */
export function readsRaw(measure: TileMeasure): boolean {
  return measure.aggregate.kind === 'earliest' || measure.scope.where.some((w) => hasDateOperator(w.ops));
}

/**
 * Every distinct measure the cohorts (and metrics) read from tiles, by id (those {@link readsRaw}
 * and sequence steps left out: they have no tiles); the windows do not matter here.
 */
export function catalogMeasures(cohorts: readonly CohortDefinition[], metrics?: MetricSettings): TileMeasure[] {
  const byId = new Map<string, TileMeasure>();
  const uses = [...cohorts.flatMap((c) => leaves(c.rule).flatMap((leaf) => leafUses(leaf, 0))), ...(metrics ? metricUses(metrics, 0) : [])];
  for (const { measure, step } of uses) if (!step && !readsRaw(measure)) byId.set(measure.id, measure);
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
}

/**
 * The earliest instant the full computation's behaviour scan admits (undefined: all history): the
 * widest window start over every use. Its de-duplication picks one copy among the copies inside
 * `[start, T)`, so an exact combination de-duplicates contested copies over the same range.
 */
export function scanStart(uses: readonly MeasureUse[]): number | undefined {
  let start: number | undefined;
  for (const { range } of uses) {
    if (range.from === undefined) return undefined;
    start = start === undefined ? range.from : Math.min(start, range.from);
  }
  return start;
}
