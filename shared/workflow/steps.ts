import { definitionAcceptedEvent } from '../deliver/events.ts';
import { planRefresh } from '../engine/plan.ts';
import { type CohortOutcome, type QueryLineage, snapshotCohort } from '../engine/snapshot-cohort.ts';
import { storedArmMovement } from '../experiments/arm-movement.ts';
import { governanceAlert } from '../governance/alert.ts';
import { governRefresh, withDefinitionVersions } from '../governance/refresh-governance.ts';
import { InvalidDefinitionsError } from '../language/errors.ts';
import type { Alert, EvaluationRef, EvaluationState, QueryEngine } from '../ports.ts';
import { processDeletionRequests } from '../privacy/deletion-requests.ts';
import { withPrivacyFindings } from '../privacy/privacy-alert.ts';
import { privacyCheck } from '../privacy/privacy-check.ts';
import { refreshModeOf } from '../refresh-request.ts';
import type { BytesScanned } from '../store/manifest.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';
import type { AlertFailureEvent, FinishEvent, PlanEvent, SnapshotEvent } from './events.ts';
import { failureAlert, runAlert } from './run-alert.ts';
import { resolveConfig, runConfigOf, runPrivacy } from './run-config.ts';
import type {
  AlertFailurePorts,
  FinishPorts,
  PlanPorts,
  SnapshotPorts,
  TilesState,
  TilesSummary,
  WorkflowPlan,
  WorkflowSummary,
} from './types.ts';

/**
 * The steps of the refresh state machine as pure functions of (input JSON, ports). The Lambda
 * handlers (functions/) run them with cloud ports; locally, the state machine (local-runner.ts)
 * and its composition without the interpreter (run-steps.ts) run them with local ones.
 */

/**
 * Plan: loads and validates the catalog, selects the cohorts, compiles the one query, assigns
 * version numbers, and adds the statement the Evaluate state runs. The as-of defaults to the
 * execution's start, so a retried Plan plans the same run. With governance ports it applies the
 * guardrails first (see governRefresh): the only thing it writes is the catalog of accepted
 * definitions and its audit trail, idempotently. Before anything, pending deletion requests are
 * carried out (erasure is idempotent, so a retry is safe). The project config is read once, here
 * (an invalid one fails the step with ConfigError), and the plan carries what later steps use.
 */
export async function planStep(event: PlanEvent, ports: PlanPorts): Promise<{ plan: WorkflowPlan }> {
  const catalog = await ports.definitions();
  if (catalog.problems.length > 0) throw new InvalidDefinitionsError(catalog.problems);
  const config = await resolveConfig(ports.config);
  const run = runConfigOf(config);
  const { request } = event;
  const privacy = runPrivacy(ports.privacy, run);
  if (privacy) await processDeletionRequests(privacy, ports.mayErase);
  const governed = ports.governance
    ? await governRefresh(
        {
          working: catalog,
          asOf: new Date(request.as_of ?? event.started_at),
          runId: event.run_id,
          at: event.started_at,
          ...(request.author ? { author: request.author } : {}),
        },
        { ...ports, config, governance: ports.governance },
      )
    : undefined;
  const planned = await planRefresh(
    {
      catalog: (governed?.catalog ?? catalog).definitions,
      ...(request.cohorts ? { cohorts: request.cohorts } : {}),
      ...(request.cadence ? { cadence: request.cadence } : {}),
      asOf: new Date(request.as_of ?? event.started_at),
      force: request.force ?? false,
      trigger: request.trigger,
      ...(request.rationale ? { rationale: request.rationale } : {}),
    },
    { ...ports, config },
    event.run_id,
  );
  const plan = governed
    ? { ...planned, cohorts: withDefinitionVersions(planned.cohorts, governed.versions), governance: governed.report }
    : planned;
  // Announced once the run is planned, then recorded as announced: a retried Plan, or the next run
  // after a crash in between, announces them again (at least once; consumers deduplicate on cohort and version).
  if (ports.events && ports.governance && governed) {
    if (governed.accepted.length > 0) await ports.events.publish(governed.accepted.map(definitionAcceptedEvent));
    await ports.governance.catalog.markSent(governed.announcing);
  }
  return { plan: { ...plan, config: run, mode: refreshModeOf(request) } };
}

/**
 * What the local runner runs in place of the Athena task: the plan's statement (locally, the
 * query itself) on the local engine, kept under the run id: `engine.evaluate(plan.query, plan.run_id)`.
 */
export function evaluateLocal(statement: string, runId: string, engine: QueryEngine): Promise<EvaluationRef> {
  return engine.evaluate(statement, runId);
}

/**
 * Snapshot, one Map iteration: `snapshotCohort` for one cohort of the plan. A retry of an
 * iteration that already wrote its version (the Lambda finished but its answer was lost) finds
 * that version by its run id and returns its outcome instead of failing on the existing files.
 */
export async function snapshotStep(event: SnapshotEvent, ports: SnapshotPorts): Promise<CohortOutcome> {
  const replayed = await writtenByThisRun(event.plan, event.cohort, ports.store);
  if (replayed) return replayed;
  const result = await ports.evaluations.find(event.plan.run_id, event.evaluation);
  const privacy = runPrivacy(ports.privacy, event.plan.config);
  return snapshotCohort(
    event.plan,
    event.cohort,
    result,
    { ...ports, ...(privacy ? { privacy } : {}) },
    tilesLineage(event.tiles, event.evaluation),
  );
}

/** The bytes figures of a run: the Tiles step's, with what Evaluate reports it scanned (Athena's DataScannedInBytes). */
function bytesOfRun(tiles: TilesState, evaluation: EvaluationState): BytesScanned | undefined {
  const scanned = evaluation.data_scanned_bytes === undefined ? {} : { evaluate: evaluation.data_scanned_bytes };
  const bytes = { ...tiles.bytes_scanned, ...scanned };
  return Object.keys(bytes).length > 0 ? bytes : undefined;
}

/** What a version's lineage records of the Tiles step: the query Evaluate ran, the tiles and raw partitions it read, bytes. */
function tilesLineage(tiles: TilesState, evaluation: EvaluationState): QueryLineage {
  const scanned = bytesOfRun(tiles, evaluation);
  const bytes = scanned ? { bytes_scanned: scanned } : {};
  if (tiles.mode === 'full' || tiles.query === undefined) return bytes;
  return {
    query: tiles.query,
    tiles: {
      mode: tiles.mode,
      ...(tiles.tile_days ? { days: tiles.tile_days } : {}),
      ...(tiles.rollup_before ? { rollup_before: tiles.rollup_before } : {}),
      raw_partitions: tiles.raw_partitions,
      raw_measures: tiles.raw_measures,
    },
    ...bytes,
  };
}

async function writtenByThisRun(plan: WorkflowPlan, cohortId: string, store: SnapshotStore): Promise<CohortOutcome | undefined> {
  const planned = plan.cohorts.find((c) => c.id === cohortId);
  if (!planned || planned.unchanged) return undefined;
  const manifest = await store.manifest(cohortId, planned.version);
  if (manifest?.lineage.run_id !== plan.run_id) return undefined;
  const current = await store.current(cohortId);
  // Finish what the first attempt may not have: publishing (never backwards).
  if (manifest.status === 'published' && (current === undefined || current < manifest.version))
    await store.publish(cohortId, manifest.version);
  const { version, status, size, previous_version, entered, exited, checks } = manifest;
  const arms = manifest.experiment ? await storedArmMovement(store, cohortId, version, previous_version) : undefined;
  return { cohort: cohortId, status, version, size, previous_version, entered, exited, checks, ...(arms ? { arms } : {}) };
}

/**
 * Finish: the run summary from the Map's outcomes, the kept result released, and one alert when
 * anything warned, failed or was held. Releasing comes first: a retried Finish must not alert twice.
 */
export async function finishStep(event: FinishEvent, ports: FinishPorts): Promise<WorkflowSummary> {
  const { plan } = event;
  const result = await ports.evaluations.find(plan.run_id, event.evaluation);
  const finishedAt = (ports.now ?? (() => new Date()))();
  const summary: Omit<WorkflowSummary, 'alert'> = {
    run_id: plan.run_id,
    as_of: plan.as_of,
    trigger: plan.trigger,
    population: result.population,
    started_at: event.started_at,
    finished_at: finishedAt.toISOString(),
    duration_ms: Math.max(0, finishedAt.getTime() - Date.parse(event.started_at)),
    cohorts: event.snapshots,
    deliveries: event.deliveries,
    tiles: tilesSummary(event.tiles, event.evaluation),
  };
  await ports.engine.release(result);
  const changes = governanceAlert(
    plan.run_id,
    plan.governance,
    new Map(plan.cohorts.map((c) => [c.id, c.definition.owner])),
    ports.decisions,
  );
  if (changes) await ports.notifier.notify(changes);
  const written = summary.cohorts.filter((c) => c.status !== 'unchanged').map((c) => ({ cohort: c.cohort, version: c.version }));
  const checking = runPrivacy(ports.privacy, plan.config);
  const privacy = checking ? await privacyCheck(checking, { versions: written }) : undefined;
  const alert = withPrivacyFindings(runAlert(summary, plan), privacy, summary);
  if (alert) await ports.notifier.notify(alert);
  return { ...summary, alert: alert?.severity ?? null };
}

/** The run summary's account of the Tiles step. */
function tilesSummary(tiles: TilesState, evaluation: EvaluationState): TilesSummary {
  const bytes = bytesOfRun(tiles, evaluation);
  return {
    mode: tiles.mode,
    built_days: tiles.built_days.length,
    rebuilt_days: tiles.rebuilt_days.length,
    reused_days: tiles.reused_days,
    ...(tiles.expired_days && tiles.expired_days.length > 0 ? { expired_days: tiles.expired_days.length } : {}),
    raw_measures: tiles.raw_measures,
    ...(bytes ? { bytes_scanned: bytes } : {}),
  };
}

/** What AlertFailure reports back (its result is discarded by the state machine, but logged). */
export interface AlertFailureResult {
  readonly alert: Pick<Alert, 'severity' | 'title' | 'step'>;
  /** Whether the run's kept result was released; null when there was none to release. */
  readonly released: boolean | null;
  readonly release_error: string | null;
}

/**
 * AlertFailure: the `error` alert naming the failed step, then (best effort) the release of the
 * result Evaluate kept, which Finish would have released. A failed release never hides the alert.
 */
export async function alertFailureStep(event: AlertFailureEvent, ports: AlertFailurePorts): Promise<AlertFailureResult> {
  const alert = failureAlert(event);
  await ports.notifier.notify(alert);
  const summary = { severity: alert.severity, title: alert.title, ...(alert.step ? { step: alert.step } : {}) };
  if (!event.plan || !event.evaluation || !ports.engine || !ports.evaluations)
    return { alert: summary, released: null, release_error: null };
  try {
    await ports.engine.release(await ports.evaluations.find(event.plan.run_id, event.evaluation));
    return { alert: summary, released: true, release_error: null };
  } catch (error) {
    return { alert: summary, released: false, release_error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}
