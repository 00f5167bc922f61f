import { SfnRunningExecutions } from '../shared/cloud/sfn-running-executions.ts';
import type { RunningExecutions } from '../shared/refresh-request.ts';
import { type PlanEvent, planEventSchema } from '../shared/workflow/events.ts';
import { type SkippedRun, skippedByLease, skippedByOverlap, skippedWithoutCohorts } from '../shared/workflow/overlap.ts';
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
 * skipped, any other run waits: TilesBusyError).
 */
async function skippedRun(event: PlanEvent, ports: PlanPorts, executions: RunningExecutions): Promise<SkippedRun | undefined> {
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
 * Whether deletion requests may be carried out now: not while another execution runs, which may be
 * past ReleaseTiles, writing versions and exports (it gave the lease back after Evaluate). They wait
 * for a run that finds itself alone, logged.
 */
function mayErase(event: PlanEvent, executions: RunningExecutions): () => Promise<boolean> {
  return async () => {
    const other = (await executions.running()).find((e) => e.name !== event.run_id);
    if (other) logger.warn('deletion requests left for a later run: another execution runs', { running: other.name });
    return other === undefined;
  };
}

/**
 * The Plan state: select, compile into one query, assign versions. A scheduled run whose
 * cadence's previous run still runs, or whose cadence no live cohort has, or a realtime tick that
 * finds another execution holding the tile store's lease, plans nothing and returns `skipped` (the
 * state machine then ends in Skipped), logged and counted (RunsSkipped). Every other run takes the
 * lease before planning (whose erasure rewrites tile days), or waits for it (TilesBusyError), and
 * carries out deletion requests only when no other execution runs.
 */
export const handler = stepHandler({
  step: StateName.Plan,
  schema: planEventSchema,
  ports: planPorts,
  run: async (event, ports) => {
    const executions = runningExecutions();
    const skipped = await skippedRun(event, ports, executions);
    if (skipped) {
      logger.warn(`skipped (${skipped.skipped.reason})`, skipped.skipped);
      return skipped;
    }
    return planStep(event, { ...ports, mayErase: mayErase(event, executions) });
  },
  measure: (output) => publishMetricPoints('skipped' in output ? skippedMetricPoints() : planMetricPoints(output.plan)),
});
