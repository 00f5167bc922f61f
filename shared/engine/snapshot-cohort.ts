import { COHORT_CHECK_DEFAULTS, cohortChecks, verdict, versionChurn } from '../checks/cohort-checks.ts';
import { churnWarnedBefore } from '../checks/churn-warned.ts';
import { kpiChecks } from '../checks/kpi-checks.ts';
import { historyComplete } from '../checks/history-window.ts';
import type { CohortKpiTotals, EvaluationRef, QueryEngine } from '../ports.ts';
import type { PrivacyPorts } from '../privacy/ports.ts';
import { screenForSnapshot } from '../privacy/screen.ts';
import type { CheckResult, Kpis, Lineage, Manifest } from '../store/manifest.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';
import { armMovement, type ExperimentArms } from '../experiments/arm-movement.ts';
import { writeHoldoutSplit } from '../experiments/write-split.ts';
import { changes } from '../store/member-changes.ts';
import { stalenessCheck } from '../checks/cohort-freshness.ts';
import type { RefreshPlan } from './plan.ts';

/** What happened to one cohort. */
export interface CohortOutcome {
  readonly cohort: string;
  /** `unchanged`: a version for this as-of and definition already existed; nothing was written. */
  readonly status: 'published' | 'held' | 'unchanged';
  readonly version: number;
  readonly size: number;
  readonly previous_version: number | null;
  readonly entered: number;
  readonly exited: number;
  readonly checks: readonly CheckResult[];
  /**
   * For a cohort with a holdout: treatment (whom its program acts on) and holdout, each with its
   * size, entered and exited. Absent for an unchanged version, which moved nobody.
   */
  readonly arms?: ExperimentArms;
}

/**
 * What a version's lineage records of how the result was computed, beyond the plan: the query
 * Evaluate ran when it was not the plan's (tiles), what it read of the tiles, bytes read.
 */
export type QueryLineage = Partial<Pick<Lineage, 'query' | 'tiles' | 'bytes_scanned'>>;

/** The cohort of a plan a snapshot step works on. */
export class CohortNotInPlanError extends Error {
  override readonly name = 'CohortNotInPlanError';
}

/**
 * The snapshot step of one cohort: checks, a new immutable version (members, then the manifest
 * that makes it exist), and publication when no check failed. Current moves only after that.
 */
export async function snapshotCohort(
  plan: RefreshPlan,
  cohortId: string,
  result: EvaluationRef,
  ports: { readonly engine: QueryEngine; readonly store: SnapshotStore; readonly now?: () => Date; readonly privacy?: PrivacyPorts },
  computed: QueryLineage = {},
): Promise<CohortOutcome> {
  const cohort = plan.cohorts.find((c) => c.id === cohortId);
  if (!cohort) throw new CohortNotInPlanError(`cohort "${cohortId}" is not part of run ${plan.run_id}`);
  const { store } = ports;
  if (cohort.unchanged) {
    const existing = (await store.manifest(cohort.id, cohort.unchanged.version)) as Manifest;
    await publishIfLeftBehind(store, existing);
    return {
      cohort: cohort.id,
      status: 'unchanged',
      version: existing.version,
      size: existing.size,
      previous_version: existing.previous_version,
      entered: existing.entered,
      exited: existing.exited,
      checks: existing.checks,
    };
  }
  // Suppressed and forgotten people never reach a stored version; lineage counts them.
  const { members, lineage: privacy } = await screenForSnapshot(await ports.engine.members(result, cohort.column), ports.privacy);
  const previousVersion = (await store.current(cohort.id)) ?? null;
  const previousMembers = previousVersion === null ? undefined : await store.members(cohort.id, previousVersion);
  const moved = changes(members, previousMembers);
  const entered = moved.entered.length;
  const exited = moved.exited.length;
  const totals = await ports.engine.kpis(result, cohort.column, plan.metrics.columns);
  const kpis = versionKpis({ ...totals, size: members.length }, entered, exited, plan.metrics.settings);
  // Only the recent published versions the checks look at, not the whole history.
  const needs = { kpis, previousVersion, ...(cohort.definition.quality?.kpis ? { quality: cohort.definition.quality.kpis } : {}) };
  const published = await store.recentPublished(cohort.id, cohort.version, (read) => historyComplete(read, needs));
  const previousManifest = published.find((m) => m.version === previousVersion);
  const churnWarned = churnWarnedBefore(published, COHORT_CHECK_DEFAULTS.max_churn_pct);
  const checks = cohortChecks({
    size: members.length,
    ...(previousManifest ? { previous: { size: previousManifest.size, definitionHash: previousManifest.definition.hash } } : {}),
    history: published.map((m) => m.size),
    churns: published.flatMap((m) => versionChurn(m) ?? []),
    ...(churnWarned ? { churnWarned } : {}),
    entered,
    exited,
    definitionHash: cohort.definition.hash,
    ...(cohort.definition.change_reason ? { changeReason: cohort.definition.change_reason } : {}),
    ...(cohort.definition.quality ? { quality: cohort.definition.quality } : {}),
  });
  checks.push(
    ...kpiChecks({
      kpis,
      ...(previousManifest
        ? { previous: { version: previousManifest.version, ...(previousManifest.kpis ? { kpis: previousManifest.kpis } : {}) } }
        : {}),
      history: published.map((m) => m.kpis),
      ...(cohort.definition.quality?.kpis ? { quality: cohort.definition.quality.kpis } : {}),
    }),
  );
  checks.push(...sourceChecksFor(plan, cohort.sources_read));
  if (cohort.freshness) checks.push(stalenessCheck(cohort.freshness, cohort.definition.cadence));
  const status = verdict(checks);
  const definitionChanged = previousManifest !== undefined && previousManifest.definition.hash !== cohort.definition.hash;
  const { change_reason, quality, program, ...definition } = cohort.definition;
  const manifest: Manifest = {
    cohort: cohort.id,
    version: cohort.version,
    as_of: plan.as_of,
    created_at: (ports.now ?? (() => new Date()))().toISOString(),
    status,
    trigger: plan.trigger,
    rationale: (definitionChanged ? change_reason : null) ?? plan.rationale,
    size: members.length,
    previous_version: previousVersion,
    entered,
    exited,
    definition,
    checks,
    lineage: {
      engine: plan.engine,
      query: plan.query,
      inputs: plan.inputs,
      depends_on: cohort.depends_on,
      run_id: plan.run_id,
      ...privacy,
      ...computed,
      ...(cohort.lists ? { lists: cohort.lists } : {}),
    },
    population: result.population,
    kpis,
    ...(cohort.freshness
      ? { freshness: { newest_event: cohort.freshness.newest_event, staleness_seconds: cohort.freshness.staleness_seconds } }
      : {}),
  };
  const experiment = await writeHoldoutSplit(cohort.id, cohort.version, program, members, store);
  const arms =
    experiment &&
    armMovement(
      { members, holdout: experiment.holdout },
      previousVersion === null ? undefined : { members: previousMembers ?? [], holdout: await store.holdout(cohort.id, previousVersion) },
    );
  await store.write(experiment ? { ...manifest, experiment: experiment.split } : manifest, members);
  if (status === 'published') await store.publish(cohort.id, cohort.version);
  return {
    cohort: cohort.id,
    status,
    version: cohort.version,
    size: members.length,
    previous_version: previousVersion,
    entered,
    exited,
    checks,
    ...(arms ? { arms } : {}),
  };
}

/**
 * Finishes a version an earlier run wrote but never made current (it died between the manifest and
 * `current.json`): a published version newer than current is published now, by compare-and-swap
 * from the version it was computed against, so Deliver never exports or announces a version that
 * is not current. When current moved elsewhere meanwhile, `publish` records it lost and raises
 * CurrentMovedError; the next refresh with this as-of then computes a new version.
 */
async function publishIfLeftBehind(store: SnapshotStore, manifest: Manifest): Promise<void> {
  if (manifest.status !== 'published') return;
  const current = await store.current(manifest.cohort);
  if (current !== undefined && current >= manifest.version) return;
  await store.publish(manifest.cohort, manifest.version);
}

const rounded = (value: number, decimals: number) => Number(value.toFixed(decimals));

/**
 * The KPIs of a version from its totals. Sums are rounded to 4 decimals and shares to 6, so the
 * order in which an engine adds doubles never shows up as a shift between versions.
 */
export function versionKpis(totals: CohortKpiTotals, entered: number, exited: number, metrics: Kpis['metrics']): Kpis {
  const { size, activated } = totals;
  return {
    size,
    entered,
    exited,
    activation_count: activated,
    activation_share: size === 0 ? null : rounded(activated / size, 6),
    value_sum: rounded(totals.value_sum, 4),
    value_mean: size === 0 ? null : rounded(totals.value_sum / size, 4),
    metrics: { activation: metrics.activation, value: metrics.value },
  };
}

/**
 * The source checks that concern a cohort: those of the sources it reads (every source when it
 * reads them all) and the lake-wide ones, named after their source so a manifest can hold several.
 */
export function sourceChecksFor(plan: RefreshPlan, sources: readonly string[] | null): CheckResult[] {
  const groups = plan.source_checks.sources.filter((group) => sources === null || sources.includes(group.source));
  return [
    ...groups.flatMap((group) => group.checks.map((check) => ({ ...check, name: `${check.name}[${group.source}]` }))),
    ...plan.source_checks.lake,
  ];
}
