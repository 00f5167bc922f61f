import type { CatalogStore } from '../governance/catalog-store.ts';
import { openChanges } from '../governance/open-changes.ts';
import type { CohortDefinition } from '../language/ast.ts';
import { cohortGraph } from '../language/graph.ts';
import type { LearningsStore } from '../learnings/learnings-store.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';
import { catalogPage } from './catalog-page.ts';
import { chartLibrary } from './chart-library.ts';
import { loadHistories } from './history.ts';
import { indexPage } from './index-page.ts';

/** What the report is built from. */
export interface ReportInput {
  /** The validated catalog, deprecated cohorts included. */
  readonly catalog: readonly CohortDefinition[];
  /** Where versions and manifests are read from. */
  readonly store: SnapshotStore;
  /** Shown on the pages; passed in so a report is reproducible. */
  readonly generatedAt: Date;
  /** Where the learnings library is read from. @default - no learnings shown */
  readonly learnings?: LearningsStore;
  /**
   * The published catalog and its audit trail (`<state>/catalog/`; the definitions bucket's
   * `catalog/` in the cloud): definition versions and the changes waiting or refused.
   * @default - no definition versions or open changes shown
   */
  readonly governance?: CatalogStore;
}

/** A built report: relative file name -> HTML text. */
export interface Report {
  readonly files: Record<string, string>;
}

/**
 * Builds the static report: `index.html` (summary, definition changes waiting or refused, charts,
 * versions, definition versions, checks, drift, definitions)
 * and `catalog.html` (the documentation of every cohort). Both pages are self-contained.
 */
export async function buildReport(input: ReportInput): Promise<Report> {
  const open = input.governance ? await openChanges(input.catalog, input.governance) : undefined;
  const governance = input.governance && open ? { catalog: input.governance, open } : undefined;
  const [histories, chartJs] = await Promise.all([loadHistories(input.catalog, input.store, input.learnings, governance), chartLibrary()]);
  const graph = cohortGraph(input.catalog);
  return {
    files: {
      'index.html': indexPage(histories, input.generatedAt, chartJs, open),
      'catalog.html': catalogPage(input.catalog, graph, input.generatedAt),
    },
  };
}
