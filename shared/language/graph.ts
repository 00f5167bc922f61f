import type { CohortDefinition, Condition } from './ast.ts';
import { leaves } from './condition-leaves.ts';

/** A `cohort:` leaf of a rule: an edge of the catalog's graph. */
export type CohortReference = Extract<Condition, { kind: 'cohort' }>;

/** The cohort references of a condition, in the order written. */
export function references(condition: Condition): CohortReference[] {
  return leaves(condition).filter((leaf): leaf is CohortReference => leaf.kind === 'cohort');
}

/** Which way a walk follows the references: to what a cohort reads, or to who reads it. */
export type Direction = 'dependencies' | 'dependants';

/** Who references whom in a catalog (deprecated cohorts included; a reference to a missing id is kept as written). */
export interface CohortGraph {
  /** Cohorts the rule of `id` references directly, each once, in the order first written. */
  dependencies(id: string): readonly string[];
  /** Cohorts whose rule references `id` directly, in catalog order. */
  dependants(id: string): readonly string[];
  /**
   * Every cohort reached from `ids` through one or more references followed in `direction`,
   * depth first in edge order; the starting ids are left out.
   */
  closure(ids: Iterable<string>, direction: Direction): string[];
  /** The definitions of the closure from `id` that the catalog holds, in catalog order. */
  reached(id: string, direction: Direction): CohortDefinition[];
}

/** The reference graph of a catalog. */
export function cohortGraph(catalog: readonly CohortDefinition[]): CohortGraph {
  const edges: Record<Direction, Map<string, string[]>> = { dependencies: new Map(), dependants: new Map() };
  for (const definition of catalog) {
    const targets = [...new Set(references(definition.rule).map((ref) => ref.id))];
    edges.dependencies.set(definition.id, targets);
    for (const target of targets) edges.dependants.set(target, [...(edges.dependants.get(target) ?? []), definition.id]);
  }
  const closure = (ids: Iterable<string>, direction: Direction): string[] => {
    const start = new Set(ids);
    const seen = new Set<string>();
    const reached: string[] = [];
    const visit = (id: string): void => {
      for (const next of edges[direction].get(id) ?? []) {
        if (seen.has(next) || start.has(next)) continue;
        seen.add(next);
        reached.push(next);
        visit(next);
      }
    };
    for (const id of start) visit(id);
    return reached;
  };
  return {
    dependencies: (id) => edges.dependencies.get(id) ?? [],
    dependants: (id) => edges.dependants.get(id) ?? [],
    closure,
    reached: (id, direction) => {
      const ids = new Set(closure([id], direction));
      return catalog.filter((d) => ids.has(d.id));
    },
  };
}

/** A reference that closes a loop: `from`'s rule names `reference.id`, which leads back to `from`. */
export interface ReferenceCycle {
  readonly from: CohortDefinition;
  readonly reference: CohortReference;
  /** The ids around the loop, the first repeated at the end (`a -> b -> a`). */
  readonly loop: readonly string[];
}

/**
 * The definitions in dependency order (a cohort after every cohort it references), walking the
 * ids sorted and each rule's references as written; or the first cycle that walk meets.
 */
export function dependencyOrder(
  catalog: readonly CohortDefinition[],
): { readonly ok: true; readonly order: CohortDefinition[] } | { readonly ok: false; readonly cycle: ReferenceCycle } {
  const byId = new Map(catalog.map((d) => [d.id, d]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const order: CohortDefinition[] = [];
  const visit = (id: string): ReferenceCycle | undefined => {
    const definition = byId.get(id);
    if (!definition || state.has(id)) return undefined;
    state.set(id, 'visiting');
    stack.push(id);
    for (const reference of references(definition.rule)) {
      if (state.get(reference.id) === 'visiting') {
        return { from: definition, reference, loop: [...stack.slice(stack.indexOf(reference.id)), reference.id] };
      }
      const cycle = visit(reference.id);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(id, 'done');
    order.push(definition);
    return undefined;
  };
  for (const id of [...byId.keys()].sort()) {
    const cycle = visit(id);
    if (cycle) return { ok: false, cycle };
  }
  return { ok: true, order };
}
