import { DEFAULT_CONFIG, type ProjectConfig } from '../config/config.ts';
import type { PlannedCohort } from '../engine/plan.ts';
import type { Catalog } from '../language/catalog.ts';
import type { QueryEngine } from '../ports.ts';
import type { CatalogStore } from './catalog-store.ts';
import { governCatalog, recordGovernance } from './govern.ts';
import type { DefinitionVersion } from './records.ts';
import type { GovernanceReport } from './report-schema.ts';

/** What a refresh needs to govern definition changes. */
export interface RefreshGovernancePorts {
  /** The published catalog and audit trail: `<state>/catalog/` locally, the definitions bucket's `catalog/` in the cloud. */
  readonly catalog: CatalogStore;
  /** Who wrote a definition file, when that can be known (git locally). @default - unknown */
  readonly authorOf?: (path: string) => Promise<string | undefined>;
}

/** The catalog a refresh runs, the catalog version of each cohort, and the report for the alert. */
export interface GovernedRefresh {
  readonly catalog: Catalog;
  readonly versions: ReadonlyMap<string, number>;
  readonly report: GovernanceReport;
  /**
   * The catalog entries to announce: those this run accepted, now or in an earlier attempt of the
   * same run (a retried step), and those of runs that died between accepting and announcing.
   * Announce them, then `catalog.markSent(announcing)`.
   */
  readonly accepted: readonly DefinitionVersion[];
  /** The runs whose announcements `accepted` completes (this one included). */
  readonly announcing: readonly string[];
}

/**
 * The guardrails inside a refresh (the Plan step): judges the working catalog against the
 * published one, records what it accepts (new catalog versions) and, once each, what it refuses
 * or keeps waiting, and returns the catalog to refresh: a refused or waiting change keeps the
 * last accepted definition of its cohort, so nothing of it is refreshed.
 */
export async function governRefresh(
  input: { readonly working: Catalog; readonly asOf: Date; readonly runId: string; readonly at: string; readonly author?: string },
  ports: { readonly governance: RefreshGovernancePorts; readonly engine: QueryEngine; readonly config?: ProjectConfig },
): Promise<GovernedRefresh> {
  const { catalog } = ports.governance;
  const governance = await governCatalog(
    { working: input.working, asOf: input.asOf },
    { catalog, engine: ports.engine, settings: (ports.config ?? DEFAULT_CONFIG).guardrails },
  );
  const authors = new Map<string, string | null>();
  const authorOf = async (change: { readonly cohort: string }): Promise<string | null> => {
    if (input.author !== undefined) return input.author;
    const path = governance.details.get(change.cohort)?.after?.path;
    if (path === undefined || !ports.governance.authorOf) return null;
    if (!authors.has(path)) authors.set(path, (await ports.governance.authorOf(path)) ?? null);
    return authors.get(path) ?? null;
  };
  const unsent = await catalog.unsent();
  const owed = new Set(unsent.flatMap((u) => u.versions.map((v) => `${v.cohort}@${v.version}`)));
  const earlier = [...governance.entries.values()].filter(
    (entry) => entry.run_id === input.runId || owed.has(`${entry.cohort}@${entry.version}`),
  );
  // Before accepting: a run that dies part-way through the catalog leaves what it owes in pending.json.
  if (governance.accept.length > 0) await catalog.willAnnounce(input.runId, governance.accept);
  const recorded = await recordGovernance(governance, catalog, { runId: input.runId, at: input.at, authorOf });
  return {
    catalog: governance.effective,
    versions: governance.versions,
    report: { changes: governance.changes, alerted: recorded.alerted },
    accepted: [...earlier, ...recorded.accepted],
    announcing: [
      ...unsent.map((u) => u.run_id),
      ...(governance.accept.length > 0 || earlier.some((e) => e.run_id === input.runId) ? [input.runId] : []),
    ],
  };
}

/** Planned cohorts with the catalog version of their definition, which their manifests record. */
export function withDefinitionVersions(cohorts: readonly PlannedCohort[], versions: ReadonlyMap<string, number>): PlannedCohort[] {
  return cohorts.map((c) => {
    const version = versions.get(c.id);
    return version === undefined ? c : { ...c, definition: { ...c.definition, version } };
  });
}
