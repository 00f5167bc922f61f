import { SfnRunningExecutions } from '../shared/cloud/sfn-running-executions.ts';
import type { RunningExecutions } from '../shared/refresh-request.ts';
import { type PlanEvent, planEventSchema } from '../shared/workflow/events.ts';
import {
  type SkippedRun,
  skippedByDelivery,
  skippedByLease,
  skippedByOverlap,
  skippedWithoutCohorts,
  type TilesTaken,
} from '../shared/workflow/overlap.ts';
import type { PlanPorts } from '../shared/workflow/types.ts';
import { planMetricPoints, skippedMetricPoints } from '../shared/workflow/run-metrics.ts';
import { StateName } from '../shared/workflow/state-names.ts';
import { planStep } from '../shared/workflow/steps.ts';
import { stepHandler } from './commons/handler.ts';
import { stepFunctions } from './commons/clients.ts';
import { readStateMachineArn } from './commons/config.ts';
import { publishMetricPoints } from './commons/metric-points.ts';
import { planPorts, tileLease } from './commons/ports.ts';
import { logger } from './commons/powertools.ts';

/** The state machine's running executions, listed once per invocation (on first use). */
function runningExecutions(): RunningExecutions {
  const sfn = new SfnRunningExecutions(stepFunctions, readStateMachineArn());
  let listed: ReturnType<SfnRunningExecutions['running']> | undefined;
  return { running: () => (listed ??= sfn.running()) };
}

/**
 * Why the run must not start, if it must not: a scheduled run's cadence has no cohort, or its
 * previous run still runs; then the tile store's lease (a realtime tick that finds it held is
 * skipped, any other run waits: TilesBusyError). Otherwise the lease is this run's.
 */
async function skippedRun(event: PlanEvent, ports: PlanPorts, executions: RunningExecutions): Promise<SkippedRun | TilesTaken> {
  if (event.request.cadence !== undefined) {
    const without = skippedWithoutCohorts(event, await ports.definitions());
    if (without) return without;
  }
  return (
    (await skippedByOverlap(event, executions)) ??
    (await skippedByLease(event, tileLease(), executions, (holder) =>
      logger.warn("took over the tile store's lease of an execution that no longer runs", { holder }),
    ))
  );
}

/**
 * Whether deletion requests may be carried out now: not while a run past ReleaseTiles still runs,
 * writing versions and exports (it gave the lease back after Evaluate, and none can join it while
 * this run holds the lease). They wait for a later run, logged.
 */
function mayErase(taken: TilesTaken): () => Promise<boolean> {
  return async () => {
    const other = taken.delivering[0];
    if (other) logger.warn('deletion requests left for a later run: another execution still snapshots or delivers', { running: other.run });
    return other === undefined;
  };
}

/** The skip logged, as Plan's output. */
function skippedAs(skipped: SkippedRun): SkippedRun {
  logger.warn(`skipped (${skipped.skipped.reason})`, skipped.skipped);
  return skipped;
}

/**
 * The Plan state: select, compile into one query, assign versions. A scheduled run whose
 * cadence's previous run still runs, or whose cadence no live cohort has, or a realtime tick that
 * finds another execution holding the tile store's lease, or still snapshotting a cohort the tick
 * planned, plans nothing and returns `skipped` (the state machine then ends in Skipped), logged and
 * counted (RunsSkipped). Every other run takes the lease before planning (whose erasure rewrites
 * tile days), or waits for it or for that run (TilesBusyError), and carries out deletion requests
 * only when no run past ReleaseTiles still runs.
 */
export const handler = stepHandler({
  step: StateName.Plan,
  schema: planEventSchema,
  ports: planPorts,
  run: async (event, ports) => {
    const executions = runningExecutions();
    const taken = await skippedRun(event, ports, executions);
    if ('skipped' in taken) return skippedAs(taken);
    const planned = await planStep(event, { ...ports, mayErase: mayErase(taken) });
    const delivering = await skippedByDelivery(
      event,
      planned.plan.cohorts.map((c) => c.id),
      taken,
      tileLease(),
    );
    return delivering ? skippedAs(delivering) : planned;
  },
  measure: (output) => publishMetricPoints('skipped' in output ? skippedMetricPoints() : planMetricPoints(output.plan)),
});
