import type { CohortDefinition } from '../language/ast.ts';
import { cohortGraph } from '../language/graph.ts';
import { type ListRead, listsRead } from '../language/lists-read.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';

/** An uploaded list whose content differs from what the current version of some cohort read. */
export interface ListChange {
  readonly name: string;
  /** The content the current versions read (the first reader's, in catalog order). */
  readonly before: Pick<ListRead, 'hash' | 'entries'>;
  /** The content in the definitions now. */
  readonly after: Pick<ListRead, 'hash' | 'entries'>;
  /** The cohorts whose current version read other content, with that version: the next refresh makes new ones. */
  readonly readers: readonly { readonly cohort: string; readonly version: number }[];
}

/**
 * The uploaded lists that changed since the current versions read them: for every cohort reading
 * lists (through references too), its current version's `lineage.lists` against the working
 * catalog's. A version from before lineage recorded lists counts as having read other content.
 */
export async function listChanges(
  working: readonly CohortDefinition[],
  store: Pick<SnapshotStore, 'current' | 'manifest'>,
): Promise<ListChange[]> {
  const graph = cohortGraph(working);
  const changes = new Map<string, { before: ListChange['before']; after: ListChange['after']; readers: ListChange['readers'][number][] }>();
  for (const cohort of working) {
    const lists = listsRead(cohort, graph);
    if (lists.length === 0) continue;
    const version = await store.current(cohort.id);
    if (version === undefined) continue;
    const recorded = new Map(((await store.manifest(cohort.id, version))?.lineage.lists ?? []).map((l) => [l.name, l]));
    for (const list of lists) {
      const before = recorded.get(list.name);
      if (before?.hash === list.hash) continue;
      const change = changes.get(list.name) ?? {
        before: before ? { hash: before.hash, entries: before.entries } : { hash: '', entries: 0 },
        after: { hash: list.hash, entries: list.entries },
        readers: [],
      };
      change.readers.push({ cohort: cohort.id, version });
      changes.set(list.name, change);
    }
  }
  return [...changes].map(([name, change]) => ({ name, ...change })).sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** One line of `cohorts plan` per changed list. */
export function listChangeLines(changes: readonly ListChange[]): string[] {
  return changes.map((change) => {
    const before = change.before.hash === '' ? 'not recorded' : `${change.before.entries} entries (${change.before.hash.slice(0, 12)})`;
    const readers = change.readers.map((r) => `${r.cohort} v${r.version}`).join(', ');
    return `~ list ${change.name}: ${before} -> ${change.after.entries} entries (${change.after.hash.slice(0, 12)}); read by ${readers}, which the next refresh writes again`;
  });
}
