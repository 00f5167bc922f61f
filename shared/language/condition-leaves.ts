import type { Condition } from './ast.ts';

/** A condition that holds no other: a cohort reference or an event, latest, velocity or sequence test. */
export type Leaf = Exclude<Condition, { readonly kind: 'all' | 'any' | 'not' }>;

/** The leaves of a condition, in the order written. */
export function leaves(condition: Condition): Leaf[] {
  switch (condition.kind) {
    case 'all':
    case 'any':
      return condition.items.flatMap(leaves);
    case 'not':
      return leaves(condition.item);
    default:
      return [condition];
  }
}

/**
 * The condition with every leaf replaced by `replace(leaf, path)`, where `path` leads from the
 * condition to the leaf as the YAML writes it (`['all', 0, 'not']`).
 */
export function mapLeaves(condition: Condition, replace: (leaf: Leaf, path: readonly PropertyKey[]) => Condition): Condition {
  const map = (node: Condition, path: readonly PropertyKey[]): Condition => {
    switch (node.kind) {
      case 'all':
      case 'any':
        return { ...node, items: node.items.map((item, i) => map(item, [...path, node.kind, i])) };
      case 'not':
        return { ...node, item: map(node.item, [...path, 'not']) };
      default:
        return replace(node, path);
    }
  };
  return map(condition, []);
}
