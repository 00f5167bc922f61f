import type { CatalogStore } from '../governance/catalog-store.ts';
import type { OpenChange } from '../governance/open-changes.ts';
import type { CohortDefinition } from '../language/ast.ts';
import type { Learning, LearningsStore } from '../learnings/learnings-store.ts';
import type { Manifest } from '../store/manifest.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';
import { type DefinitionVersionView, loadDefinitionVersions } from './definition-history.ts';
import { type DriftFlag, driftFlags } from './drift.ts';

/** Everything the report shows about one cohort. */
export interface CohortHistory {
  readonly definition: CohortDefinition;
  /** Every complete version, ascending. */
  readonly manifests: readonly Manifest[];
  /** The published version downstream sees, if any. */
  readonly current: number | undefined;
  /** The newest version, published or held. */
  readonly latest: Manifest | undefined;
  /** The version the latest one was compared with (its `previous_version`). */
  readonly baseline: Manifest | undefined;
  readonly drift: readonly DriftFlag[];
  /** Notes of the learnings library, oldest first. */
  readonly learnings: readonly Learning[];
  /** Accepted definition versions, oldest first (none when the report has no catalog store). */
  readonly definitionVersions: readonly DefinitionVersionView[];
  /** Its refused and waiting changes that are still open. */
  readonly openChanges: readonly OpenChange[];
}

/** Where the governance side of the report is read from. */
export interface GovernanceSource {
  /** The published catalog and its audit trail. */
  readonly catalog: CatalogStore;
  /** The refused and waiting changes still open (`openChanges` over the same catalog). */
  readonly open: readonly OpenChange[];
}

/**
 * Reads the history of every cohort of the catalog, live ones first, then by id. Cohorts
 * without versions are kept: the report says they were never refreshed.
 */
export async function loadHistories(
  catalog: readonly CohortDefinition[],
  store: SnapshotStore,
  learnings?: LearningsStore,
  governance?: GovernanceSource,
): Promise<CohortHistory[]> {
  const ordered = [...catalog].sort(
    (a, b) => Number(a.deprecated !== undefined) - Number(b.deprecated !== undefined) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return Promise.all(
    ordered.map(async (definition) => {
      const [manifests, lost, current, notes] = await Promise.all([
        store.manifests(definition.id),
        store.lostPublishes(definition.id),
        store.current(definition.id),
        learnings ? learnings.list(definition.id) : [],
      ]);
      // A version that lost the publish race was never current: downstream never saw it (`cohorts history` lists it).
      const sortedManifests = manifests.filter((m) => !lost.has(m.version)).sort((a, b) => a.version - b.version);
      const latest = sortedManifests.at(-1);
      const baseline = latest?.previous_version == null ? undefined : sortedManifests.find((m) => m.version === latest.previous_version);
      const definitionVersions = governance ? await loadDefinitionVersions(definition.id, governance.catalog, sortedManifests) : [];
      const openChanges = (governance?.open ?? []).filter((c) => c.record.cohort === definition.id);
      return {
        definition,
        manifests: sortedManifests,
        current,
        latest,
        baseline,
        drift: driftFlags(sortedManifests),
        learnings: notes,
        definitionVersions,
        openChanges,
      };
    }),
  );
}
