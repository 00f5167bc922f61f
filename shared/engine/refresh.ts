import { randomUUID } from 'node:crypto';
import type { ProjectConfig } from '../config/config.ts';
import type { ProgressListener, QueryEngine } from '../ports.ts';
import { processDeletionRequests } from '../privacy/deletion-requests.ts';
import { type PrivacyReport, privacyCheck } from '../privacy/privacy-check.ts';
import type { PrivacyPorts } from '../privacy/ports.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';
import { planRefresh, type RefreshRequest } from './plan.ts';
import { type CohortOutcome, snapshotCohort } from './snapshot-cohort.ts';

export type { RefreshRequest } from './plan.ts';
export type { CohortOutcome } from './snapshot-cohort.ts';

/** The ports a refresh uses. */
export interface RefreshPorts {
  readonly engine: QueryEngine;
  readonly store: SnapshotStore;
  readonly now?: () => Date;
  readonly runId?: string;
  readonly onProgress?: ProgressListener;
  /** Source check levels and SLAs. @default - DEFAULT_CONFIG */
  readonly config?: ProjectConfig;
  /** Suppression, erasure and the privacy check. @default - none of them */
  readonly privacy?: PrivacyPorts;
}

/** The result of a refresh run. */
export interface RunSummary {
  readonly runId: string;
  readonly asOf: string;
  readonly population: number;
  readonly cohorts: readonly CohortOutcome[];
  readonly durationMs: number;
  readonly query: string;
  /** The privacy check of this run's versions, when privacy ports were given. */
  readonly privacy?: PrivacyReport;
}

/**
 * Refreshes the selected cohorts and everything they depend on: plan (one query for all of
 * them), evaluate, then per cohort in dependency order checks, a new immutable version, and
 * publication when no check failed. The same steps run as the state machine's tasks.
 */
export async function refresh(request: RefreshRequest, ports: RefreshPorts): Promise<RunSummary> {
  const started = Date.now();
  const progress = ports.onProgress ?? (() => {});
  progress('planning', 0, 1);
  if (ports.privacy) await processDeletionRequests(ports.privacy);
  const plan = await planRefresh(request, ports, ports.runId ?? randomUUID());
  const evaluating = `evaluating ${plan.cohorts.length} cohorts in one pass`;
  progress(evaluating, 0, 1);
  const result = await ports.engine.evaluate(plan.query, plan.run_id);
  progress(evaluating, 1, 1);
  const outcomes: CohortOutcome[] = [];
  try {
    for (const [index, cohort] of plan.cohorts.entries()) {
      progress('writing snapshots', index, plan.cohorts.length);
      outcomes.push(await snapshotCohort(plan, cohort.id, result, ports));
    }
    progress('writing snapshots', plan.cohorts.length, plan.cohorts.length);
  } finally {
    await ports.engine.release(result);
  }
  const written = outcomes.filter((o) => o.status !== 'unchanged').map((o) => ({ cohort: o.cohort, version: o.version }));
  const privacy = ports.privacy ? { privacy: await privacyCheck(ports.privacy, { versions: written }) } : {};
  return {
    runId: plan.run_id,
    asOf: plan.as_of,
    population: result.population,
    cohorts: outcomes,
    durationMs: Date.now() - started,
    query: plan.query,
    ...privacy,
  };
}
