import type { CatalogStore } from '../governance/catalog-store.ts';
import { changedFields } from '../governance/compare.ts';
import { type DiffLine, lineDiff } from '../governance/line-diff.ts';
import type { OpenChange } from '../governance/open-changes.ts';
import type { DefinitionVersion } from '../governance/records.ts';
import type { CohortDefinition } from '../language/ast.ts';
import { buildActions } from '../language/actions.ts';
import { parseDefinition } from '../language/parse-definition.ts';
import type { Manifest } from '../store/manifest.ts';
import { ruleText } from './rule-text.ts';

/** One accepted definition version of a cohort, as the report shows it. */
export interface DefinitionVersionView {
  readonly entry: DefinitionVersion;
  /** Membership versions made from it (their manifests' `definition.version`, else the same hash), ascending. */
  readonly memberships: readonly number[];
  /** Top-level keys that differ from the previous accepted version; empty for the first. */
  readonly fields: readonly string[];
  /** The rule's line diff against the previous accepted version, when the rule changed. */
  readonly ruleDiff: readonly DiffLine[] | null;
}

/** The manifests made from a definition version: by `definition.version`, or by hash for manifests written before it existed. */
function madeFrom(entry: DefinitionVersion, entries: readonly DefinitionVersion[], manifests: readonly Manifest[]): number[] {
  return manifests
    .filter((m) => {
      if (m.definition.version !== undefined) return m.definition.version === entry.version;
      // The newest version with that hash accepted before the manifest was written made it.
      const candidates = entries.filter((e) => e.hash === m.definition.hash);
      const before = candidates.filter((e) => e.accepted_at <= m.created_at);
      return (before.at(-1) ?? candidates[0])?.version === entry.version;
    })
    .map((m) => m.version)
    .sort((a, b) => a - b);
}

function parsed(entry: DefinitionVersion | null | undefined): CohortDefinition | undefined {
  if (!entry?.text || !entry.path) return undefined;
  const result = parseDefinition(entry.text, entry.path, buildActions(entry.actions ?? []).actions);
  return result.ok ? result.definition : undefined;
}

/** The keys that differ between two definitions, and the rule's line diff when the rule is one of them. */
function differences(
  before: CohortDefinition | undefined,
  after: CohortDefinition | undefined,
): Pick<DefinitionVersionView, 'fields' | 'ruleDiff'> {
  const fields = before && after ? changedFields(before, after) : [];
  const ruleDiff =
    before && after && fields.includes('rule') ? lineDiff(ruleText(before.rule).split('\n'), ruleText(after.rule).split('\n')) : null;
  return { fields, ruleDiff };
}

/** The rule diff of an open change: its accepted version against the working definition it recorded; null when the rule is the same. */
export function openChangeRuleDiff(change: OpenChange, working: CohortDefinition): readonly DiffLine[] | null {
  if (change.record.hash !== working.hash) return null;
  return differences(parsed(change.published), working).ruleDiff;
}

/**
 * Every accepted definition version of a cohort, oldest first, with the membership versions each
 * made and what changed against the one before (read through the catalog store, so the same over
 * the state folder or the definitions bucket).
 */
export async function loadDefinitionVersions(
  cohort: string,
  catalog: CatalogStore,
  manifests: readonly Manifest[],
): Promise<DefinitionVersionView[]> {
  const entries = await catalog.versions(cohort);
  return entries.map((entry, index) => {
    return { entry, memberships: madeFrom(entry, entries, manifests), ...differences(parsed(entries[index - 1]), parsed(entry)) };
  });
}
