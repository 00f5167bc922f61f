import type { CohortDefinition } from '../language/ast.ts';
import { references } from '../language/catalog.ts';

/** Who references whom in a catalog. */
export interface DependencyGraph {
  /** Cohorts the rule of `id` references directly, sorted. */
  dependencies(id: string): readonly string[];
  /** Cohorts whose rule references `id` directly, sorted. */
  dependants(id: string): readonly string[];
  /** Cohorts that reference `id` only through others (a change reaches them too), sorted. */
  indirectDependants(id: string): readonly string[];
  /** Every cohort `id` depends on, directly or not, sorted. */
  allDependencies(id: string): readonly string[];
}

const sorted = (ids: Iterable<string>) => [...new Set(ids)].sort();

/** The reference graph of a catalog (deprecated cohorts included). */
export function dependencyGraph(catalog: readonly CohortDefinition[]): DependencyGraph {
  const forward = new Map<string, string[]>();
  const backward = new Map<string, string[]>();
  for (const definition of catalog) {
    const targets = sorted(references(definition.rule).map((ref) => ref.id));
    forward.set(definition.id, targets);
    for (const target of targets) backward.set(target, [...(backward.get(target) ?? []), definition.id]);
  }
  const closure = (edges: ReadonlyMap<string, readonly string[]>, id: string): string[] => {
    const seen = new Set<string>();
    const stack = [...(edges.get(id) ?? [])];
    while (stack.length > 0) {
      const next = stack.pop() as string;
      if (seen.has(next) || next === id) continue;
      seen.add(next);
      stack.push(...(edges.get(next) ?? []));
    }
    return sorted(seen);
  };
  return {
    dependencies: (id) => forward.get(id) ?? [],
    dependants: (id) => sorted(backward.get(id) ?? []),
    indirectDependants: (id) => {
      const direct = new Set(backward.get(id) ?? []);
      return closure(backward, id).filter((other) => !direct.has(other));
    },
    allDependencies: (id) => closure(forward, id),
  };
}
