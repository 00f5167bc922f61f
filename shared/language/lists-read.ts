import type { CohortDefinition } from './ast.ts';
import { leaves } from './condition-leaves.ts';
import type { CohortGraph } from './graph.ts';

/** An uploaded list a rule reads, by content (never an entry). */
export interface ListRead {
  readonly name: string;
  readonly hash: string;
  readonly entries: number;
}

/**
 * The uploaded lists a cohort's rule reads, through its references too, sorted by name, with the
 * content the catalog read (a leaf without content, from a catalog rebuilt from texts, is left out).
 */
export function listsRead(cohort: CohortDefinition, graph: CohortGraph): ListRead[] {
  const byName = new Map<string, ListRead>();
  for (const definition of [cohort, ...graph.reached(cohort.id, 'dependencies')]) {
    for (const leaf of leaves(definition.rule)) {
      if (leaf.kind === 'list' && leaf.content) byName.set(leaf.name, { name: leaf.name, ...leaf.content });
    }
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Whether a version read exactly these lists' contents (none recorded is none read). */
export function sameLists(recorded: readonly ListRead[] | undefined, lists: readonly ListRead[]): boolean {
  const key = (all: readonly ListRead[]) => all.map((l) => `${l.name}:${l.hash}`).join(',');
  return key(recorded ?? []) === key(lists);
}
