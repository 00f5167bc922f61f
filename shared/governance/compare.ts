import type { CohortDefinition, Condition } from '../language/ast.ts';
import { buildCatalog } from '../language/catalog.ts';
import { canonicalJson } from '../language/canonical.ts';
import { mapLeaves } from '../language/condition-leaves.ts';
import { InvalidDefinitionsError } from '../language/errors.ts';
import type { DefinitionVersion } from './records.ts';

/** The published catalog: the definitions the last refreshes accepted, with their catalog entries. */
export interface PublishedCatalog {
  /** Live and deprecated definitions, as accepted (removed cohorts are not here). */
  readonly definitions: ReadonlyMap<string, CohortDefinition>;
  /** The latest catalog entry of every cohort ever accepted, removals included. */
  readonly entries: ReadonlyMap<string, DefinitionVersion>;
}

/** Rebuilds the published catalog from its latest entries (their accepted YAML). */
export function publishedCatalog(entries: ReadonlyMap<string, DefinitionVersion>): PublishedCatalog {
  const files = [...entries.values()]
    .filter((e) => e.change !== 'removed' && e.text !== null && e.path !== null)
    .map((e) => ({ path: e.path as string, text: e.text as string, ...(e.actions ? { actions: e.actions } : {}) }));
  const catalog = buildCatalog(files);
  // Accepted definitions were valid together; a problem here means the catalog was edited by hand.
  if (catalog.problems.length > 0) throw new InvalidDefinitionsError(catalog.problems);
  return { definitions: new Map(catalog.definitions.map((d) => [d.id, d])), entries };
}

/** What a working definition does to the published one. */
export type ChangeKind = 'added' | 'changed' | 'deprecated' | 'removed' | 'unchanged';

/** One cohort of the comparison of the working definitions with the published ones. */
export interface CohortChange {
  readonly cohort: string;
  readonly kind: ChangeKind;
  /** The published definition (absent when added). */
  readonly before?: CohortDefinition;
  /** The working definition (absent when removed). */
  readonly after?: CohortDefinition;
  /** Top-level keys whose values differ, in the order a definition is written (`rule`, `tier`, ...). */
  readonly fields: readonly string[];
}

const FIELDS = [
  'name',
  'owner',
  'purpose',
  'tier',
  'cadence',
  'rule',
  'quality',
  'limitations',
  'program',
  'change_reason',
  'deprecated',
] as const;

/** Positions say where a reference was written, which is not part of what a rule means. */
function withoutPositions(condition: Condition): Condition {
  return mapLeaves(condition, (leaf) => (leaf.kind === 'cohort' ? { kind: 'cohort', id: leaf.id } : leaf));
}

const fieldText = (definition: CohortDefinition, field: (typeof FIELDS)[number]) =>
  canonicalJson(field === 'rule' ? withoutPositions(definition.rule) : (definition[field] ?? null));

/** The keys two definitions disagree on. */
export function changedFields(before: CohortDefinition, after: CohortDefinition): string[] {
  return FIELDS.filter((field) => fieldText(before, field) !== fieldText(after, field));
}

/** Every cohort of either side, compared: working definitions in dependency order, then removals. */
export function compareCatalogs(working: readonly CohortDefinition[], published: PublishedCatalog): CohortChange[] {
  const seen = new Set<string>();
  const result: CohortChange[] = [];
  for (const after of working) {
    seen.add(after.id);
    const before = published.definitions.get(after.id);
    if (!before) {
      result.push({ cohort: after.id, kind: 'added', after, fields: [] });
      continue;
    }
    const fields = before.hash === after.hash ? [] : changedFields(before, after);
    const kind: ChangeKind = fields.length === 0 ? 'unchanged' : after.deprecated && !before.deprecated ? 'deprecated' : 'changed';
    result.push({ cohort: after.id, kind, before, after, fields });
  }
  for (const before of published.definitions.values()) {
    if (!seen.has(before.id)) result.push({ cohort: before.id, kind: 'removed', before, fields: [] });
  }
  return result;
}
