import { parse } from 'yaml';
import type { Operand, PropertyTest } from './property-values.ts';

/**
 * The oracle's reading of cohort definitions (SPEC sections 2 to 4), from the SPEC alone. It reads
 * valid definitions only: validation is the project's job, and a shape it does not know throws.
 */

const MICROS_PER_HOUR = 3_600_000_000;
/** SPEC section 2: units h, d and w; no months. */
const UNIT_MICROS: Record<string, number> = { h: MICROS_PER_HOUR, d: 24 * MICROS_PER_HOUR, w: 7 * 24 * MICROS_PER_HOUR };

/** SPEC section 2, the window table (durations in microseconds). */
export type Window =
  | { readonly kind: 'none' }
  | { readonly kind: 'within'; readonly span: number }
  | { readonly kind: 'before'; readonly span: number }
  | { readonly kind: 'between'; readonly far: number; readonly near: number };

/** SPEC section 4, "Event leaf": which events match (name, source, where, window). */
export interface EventFilter {
  /** Event names, or `*` for any event. */
  readonly names: readonly string[] | '*';
  /** Sources (exact), or undefined for any. */
  readonly sources?: readonly string[];
  readonly where: ReadonlyMap<string, PropertyTest>;
  readonly window: Window;
}

/** SPEC section 4: a measure's bounds (`eq, gt, gte, lt, lte`), all must hold. */
export interface Bounds {
  readonly eq?: number;
  readonly gt?: number;
  readonly gte?: number;
  readonly lt?: number;
  readonly lte?: number;
}

/** SPEC section 4: a condition, exactly one of the forms. */
export type Condition =
  | { readonly kind: 'all' | 'any'; readonly parts: readonly Condition[] }
  | { readonly kind: 'not'; readonly part: Condition }
  | { readonly kind: 'cohort'; readonly id: string }
  | {
      readonly kind: 'event';
      readonly filter: EventFilter;
      readonly measure: 'count' | 'sum' | 'distinct';
      readonly of?: string;
      readonly bounds: Bounds;
    }
  | { readonly kind: 'latest'; readonly filter: EventFilter; readonly property: string; readonly test: PropertyTest }
  | { readonly kind: 'velocity'; readonly filter: EventFilter; readonly span: number; readonly bounds: Bounds };

/** A definition as the oracle needs it (SPEC section 3). */
export interface OracleCohort {
  readonly id: string;
  readonly deprecated: boolean;
  readonly rule: Condition;
}

type Node = Record<string, unknown>;
const BOUND_KEYS = ['eq', 'gt', 'gte', 'lt', 'lte'] as const;
const TEST_KEYS = ['eq', 'neq', 'in', 'not_in', 'gt', 'gte', 'lt', 'lte', 'exists'] as const;
const WINDOW_KEYS = ['within', 'before', 'between'] as const;

const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null && !Array.isArray(value);
const list = <T>(value: unknown): T[] => (Array.isArray(value) ? value : [value]) as T[];

/** SPEC section 2: `<integer><unit>`. */
export function durationMicros(text: unknown): number {
  const parts = /^(\d+)([hdw])$/.exec(String(text));
  if (!parts) throw new Error(`oracle: not a duration: ${String(text)}`);
  return Number(parts[1]) * (UNIT_MICROS[parts[2] as string] as number);
}

function windowOf(node: Node): Window {
  if (node.within !== undefined) return { kind: 'within', span: durationMicros(node.within) };
  if (node.before !== undefined) return { kind: 'before', span: durationMicros(node.before) };
  if (node.between !== undefined) {
    const [far, near] = node.between as [unknown, unknown];
    return { kind: 'between', far: durationMicros(far), near: durationMicros(near) };
  }
  return { kind: 'none' };
}

function bounds(node: Node): Bounds {
  return Object.fromEntries(BOUND_KEYS.filter((key) => node[key] !== undefined).map((key) => [key, Number(node[key])]));
}

/** SPEC section 4, "Property operators": a scalar means `eq`, a mapping its operators. */
function propertyTest(value: unknown): PropertyTest {
  if (!isNode(value)) return { eq: value as Operand };
  const test: Record<string, unknown> = {};
  for (const key of TEST_KEYS) if (value[key] !== undefined) test[key] = value[key];
  return test as PropertyTest;
}

function filterOf(node: Node): EventFilter {
  const where = isNode(node.where) ? node.where : {};
  return {
    names: node.event === '*' ? '*' : list<string>(node.event).map(String),
    ...(node.source === undefined ? {} : { sources: list<string>(node.source).map(String) }),
    where: new Map(Object.entries(where).map(([key, value]) => [key, propertyTest(value)])),
    window: windowOf(node),
  };
}

/** One condition of SPEC section 4 from its YAML node. */
export function conditionOf(node: unknown): Condition {
  if (!isNode(node)) throw new Error(`oracle: not a condition: ${JSON.stringify(node)}`);
  if (node.all !== undefined) return { kind: 'all', parts: list(node.all).map(conditionOf) };
  if (node.any !== undefined) return { kind: 'any', parts: list(node.any).map(conditionOf) };
  if (node.not !== undefined) return { kind: 'not', part: conditionOf(node.not) };
  if (node.cohort !== undefined) return { kind: 'cohort', id: String(node.cohort) };
  if (isNode(node.latest)) {
    const latest = node.latest;
    return { kind: 'latest', filter: filterOf(latest), property: String(latest.property), test: propertyTest(node) };
  }
  if (isNode(node.velocity)) {
    const velocity = node.velocity;
    return {
      kind: 'velocity',
      filter: filterOf({ ...velocity, within: undefined }),
      span: durationMicros(velocity.window),
      bounds: bounds(node),
    };
  }
  if (node.event !== undefined) {
    if (WINDOW_KEYS.filter((key) => node[key] !== undefined).length > 1) throw new Error('oracle: a leaf takes at most one window key');
    const filter = filterOf(node);
    for (const measure of ['sum', 'distinct'] as const) {
      const spec = node[measure];
      if (isNode(spec))
        return { kind: 'event', filter, measure, ...(spec.of === undefined ? {} : { of: String(spec.of) }), bounds: bounds(spec) };
    }
    // SPEC: default `count: {gte: 1}`; `count: 5` means `{gte: 5}`.
    const count = node.count ?? { gte: 1 };
    return { kind: 'event', filter, measure: 'count', bounds: isNode(count) ? bounds(count) : { gte: Number(count) } };
  }
  throw new Error(`oracle: unknown condition: ${JSON.stringify(node)}`);
}

/** The cohorts of definition files' YAML texts, in the order given. */
export function readCohorts(texts: readonly string[]): OracleCohort[] {
  return texts.map((text) => {
    const node = parse(text) as Node;
    return { id: String(node.id), deprecated: node.deprecated !== undefined, rule: conditionOf(node.rule) };
  });
}
