import { randomUUID } from 'node:crypto';
import { cohortChecks, verdict } from '../checks/cohort-checks.ts';
import { compileRefresh } from '../compiler/compile-refresh.ts';
import type { CohortDefinition } from '../language/ast.ts';
import { references, selectForRun } from '../language/catalog.ts';
import type { ProgressListener, QueryEngine } from '../ports.ts';
import type { CheckResult, Manifest } from '../store/manifest.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';

/** One refresh: which cohorts, at which instant, and why. */
export interface RefreshRequest {
  /** The validated catalog (deprecated cohorts included; they are never refreshed). */
  readonly catalog: readonly CohortDefinition[];
  /** Cohort ids to refresh (with everything they depend on); all when empty. */
  readonly cohorts?: readonly string[];
  /** Only cohorts of this cadence (with their dependencies). */
  readonly cadence?: string;
  readonly asOf: Date;
  /** Write a new version even when one exists for this as-of and definition hash. */
  readonly force?: boolean;
  /** Why it ran: `manual`, `schedule:daily`, `definition-change`, ... */
  readonly trigger: string;
  readonly rationale?: string;
}

/** The ports a refresh uses. */
export interface RefreshPorts {
  readonly engine: QueryEngine;
  readonly store: SnapshotStore;
  readonly now?: () => Date;
  readonly runId?: string;
  readonly onProgress?: ProgressListener;
}

/** What happened to one cohort. */
export interface CohortOutcome {
  readonly cohort: string;
  /** `unchanged`: a version for this as-of and definition already existed; nothing was written. */
  readonly status: 'published' | 'held' | 'unchanged';
  readonly version: number;
  readonly size: number;
  readonly previousVersion: number | null;
  readonly entered: number;
  readonly exited: number;
  readonly checks: readonly CheckResult[];
}

/** The result of a refresh run. */
export interface RunSummary {
  readonly runId: string;
  readonly asOf: string;
  readonly population: number;
  readonly cohorts: readonly CohortOutcome[];
  readonly durationMs: number;
  readonly query: string;
}

/**
 * Refreshes the selected cohorts and everything they depend on: one query for all of them,
 * then per cohort (in dependency order) checks, a new immutable version, and publication when
 * no check failed. `current.json` only ever moves to a completely written version.
 */
export async function refresh(request: RefreshRequest, ports: RefreshPorts): Promise<RunSummary> {
  const started = Date.now();
  const now = ports.now ?? (() => new Date());
  const runId = ports.runId ?? randomUUID();
  const progress = ports.onProgress ?? (() => {});
  const asOf = request.asOf.toISOString();
  const selected = selectForRun(request.catalog, {
    ...(request.cohorts ? { ids: request.cohorts } : {}),
    ...(request.cadence ? { cadence: request.cadence } : {}),
  });

  progress('reading the lake', 0, 1);
  const lake = await ports.engine.lake();
  const compiled = compileRefresh({ cohorts: selected, asOf: request.asOf, lake: lake.relations, dialect: ports.engine.dialect });
  const inputs = lake.inputs(compiled.partitions);
  progress(`evaluating ${selected.length} cohorts in one pass`, 0, 1);
  const evaluation = await ports.engine.evaluate(compiled);
  progress(`evaluating ${selected.length} cohorts in one pass`, 1, 1);

  const versionOf = new Map<string, number>();
  const outcomes: CohortOutcome[] = [];
  try {
    for (const [index, cohort] of selected.entries()) {
      progress('writing snapshots', index, selected.length);
      const column = compiled.columns.get(cohort.id) as string;
      const manifests = await ports.store.manifests(cohort.id);
      const existing = manifests.find((m) => m.as_of === asOf && m.definition.hash === cohort.hash);
      if (existing && !request.force) {
        versionOf.set(cohort.id, existing.version);
        outcomes.push({
          cohort: cohort.id,
          status: 'unchanged',
          version: existing.version,
          size: existing.size,
          previousVersion: existing.previous_version,
          entered: existing.entered,
          exited: existing.exited,
          checks: existing.checks,
        });
        continue;
      }
      const members = await evaluation.members(column);
      const previousVersion = (await ports.store.current(cohort.id)) ?? null;
      const previousMembers = previousVersion === null ? undefined : await ports.store.members(cohort.id, previousVersion);
      const previousManifest = manifests.find((m) => m.version === previousVersion);
      const { entered, exited } = changes(members, previousMembers);
      const checks = cohortChecks({
        size: members.length,
        ...(previousMembers ? { previousSize: previousMembers.length } : {}),
        ...(cohort.quality ? { quality: cohort.quality } : {}),
      });
      const status = verdict(checks);
      const version = await ports.store.nextVersion(cohort.id);
      const definitionChanged = previousManifest !== undefined && previousManifest.definition.hash !== cohort.hash;
      const manifest: Manifest = {
        cohort: cohort.id,
        version,
        as_of: asOf,
        created_at: now().toISOString(),
        status,
        trigger: request.trigger,
        rationale: (definitionChanged ? cohort.change_reason : undefined) ?? request.rationale ?? null,
        size: members.length,
        previous_version: previousVersion,
        entered,
        exited,
        definition: {
          hash: cohort.hash,
          path: cohort.path,
          name: cohort.name,
          owner: cohort.owner,
          tier: cohort.tier,
          cadence: cohort.cadence,
        },
        checks,
        lineage: {
          engine: ports.engine.name,
          query: compiled.sql,
          inputs,
          depends_on: [...new Set(references(cohort.rule).map((ref) => ref.id))].map((id) => ({
            cohort: id,
            version: versionOf.get(id) as number,
          })),
          run_id: runId,
        },
        population: evaluation.population,
      };
      await ports.store.write(manifest, members);
      if (status === 'published') await ports.store.publish(cohort.id, version);
      versionOf.set(cohort.id, version);
      outcomes.push({ cohort: cohort.id, status, version, size: members.length, previousVersion, entered, exited, checks });
    }
    progress('writing snapshots', selected.length, selected.length);
  } finally {
    await evaluation.close();
  }
  return { runId, asOf, population: evaluation.population, cohorts: outcomes, durationMs: Date.now() - started, query: compiled.sql };
}

/** Members that entered and exited since the previous version. */
export function changes(current: readonly string[], previous: readonly string[] | undefined): { entered: number; exited: number } {
  if (!previous) return { entered: current.length, exited: 0 };
  const before = new Set(previous);
  const now = new Set(current);
  return {
    entered: current.filter((id) => !before.has(id)).length,
    exited: previous.filter((id) => !now.has(id)).length,
  };
}
