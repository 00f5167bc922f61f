import type { ActionSet } from './actions.ts';
import type { Condition, EventFilter } from './ast.ts';
import { type Leaf, leaves, mapLeaves } from './condition-leaves.ts';

/** A problem of resolving a rule's actions, at a path of the definition file (`['rule', 'all', 0, 'action']`). */
export interface ActionProblem {
  readonly path: readonly PropertyKey[];
  /** Whether it stands at the key the path names (a `where` property) rather than at its value. */
  readonly atKey: boolean;
  readonly message: string;
}

/** Where a leaf writes its filter's keys, below the leaf: `latest:`, `earliest:` and `velocity:` nest them. */
const filterKeyOf = (leaf: Leaf): readonly PropertyKey[] =>
  leaf.kind === 'latest' || leaf.kind === 'earliest' || leaf.kind === 'velocity' ? [leaf.kind] : [];

const NOT_BESIDE_ACTION = 'must not be given beside action: the action names the events and sources (a leaf adds conditions with where)';

/**
 * Every filter written as `action: <name>` (a leaf's, a periods leaf's or a sequence step's) given
 * the action's events, sources and `where`, the leaf's own `where` ANDed after it (as SQL would:
 * `action AND where`). An unknown action, `event` or `source` beside `action` (`written` says which
 * keys the file has), and a leaf `where` on a property the action already tests, are problems.
 */
export function resolveActions(
  rule: Condition,
  actions: ActionSet,
  written: (path: readonly PropertyKey[]) => boolean,
): { readonly rule: Condition; readonly problems: readonly ActionProblem[] } {
  const problems: ActionProblem[] = [];
  /** `filter` with its action resolved; `at` is where its keys stand in the file. */
  const resolve = (filter: EventFilter, at: readonly PropertyKey[]): EventFilter => {
    if (filter.action === undefined) return filter;
    for (const key of ['event', 'source']) {
      if (written([...at, key])) problems.push({ path: [...at, key], atKey: true, message: `${key} ${NOT_BESIDE_ACTION}` });
    }
    const name = filter.action;
    const action = actions.get(name);
    if (!action) {
      const known = [...actions.keys()].sort();
      problems.push({
        path: [...at, 'action'],
        atKey: false,
        message: `action "${name}" does not exist: no valid file actions/${name}.yaml${known.length > 0 ? ` (actions: ${known.join(', ')})` : ''}`,
      });
      return filter;
    }
    const tested = new Set(action.filter.where.map((w) => w.property));
    for (const own of filter.where) {
      if (!tested.has(own.property)) continue;
      problems.push({
        path: [...at, 'where', own.property],
        atKey: true,
        message: `action "${name}" already tests "${own.property}" (${action.source.path}): test a property once, in the action or in the leaf`,
      });
    }
    return {
      action: name,
      events: action.filter.events,
      ...(action.filter.sources ? { sources: action.filter.sources } : {}),
      where: [...action.filter.where, ...filter.where],
      ...(filter.window ? { window: filter.window } : {}),
    };
  };
  const resolved = mapLeaves(rule, (leaf, path): Condition => {
    if (leaf.kind === 'cohort' || leaf.kind === 'list') return leaf;
    const at = ['rule', ...path];
    if (leaf.kind === 'sequence') return { ...leaf, steps: leaf.steps.map((step, i) => resolve(step, [...at, 'sequence', i])) };
    return { ...leaf, filter: resolve(leaf.filter, [...at, ...filterKeyOf(leaf)]) } as Leaf;
  });
  return { rule: resolved, problems };
}

/** The actions a (resolved) rule names, each once, sorted. */
export function actionsUsed(rule: Condition): string[] {
  const names = leaves(rule).flatMap((leaf) => {
    if (leaf.kind === 'cohort' || leaf.kind === 'list') return [];
    const filters = leaf.kind === 'sequence' ? leaf.steps : [leaf.filter];
    return filters.flatMap((filter) => (filter.action !== undefined ? [filter.action] : []));
  });
  return [...new Set(names)].sort();
}
