import { SfnRunningExecutions } from '../shared/cloud/sfn-running-executions.ts';
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

/**
 * Why the run must not start, if it must not: a scheduled run's cadence has no cohort, or its
 * previous run still runs; then the tile store's lease (a realtime tick that finds it held is
 * skipped, any other run waits: TilesBusyError). The running executions are listed once.
 */
async function skippedRun(event: PlanEvent, ports: PlanPorts): Promise<SkippedRun | undefined> {
  if (event.request.cadence !== undefined) {
    const without = skippedWithoutCohorts(event, await ports.definitions());
    if (without) return without;
  }
  const sfn = new SfnRunningExecutions(stepFunctions, readStateMachineArn());
  let listed: ReturnType<SfnRunningExecutions['running']> | undefined;
  const executions = { running: () => (listed ??= sfn.running()) };
  return (
    (await skippedByOverlap(event, executions)) ??
    (await skippedByLease(event, tileLease(), executions, (holder) =>
      logger.warn("took over the tile store's lease of an execution that no longer runs", { holder }),
    ))
  );
}

/**
 * The Plan state: select, compile into one query, assign versions. A scheduled run whose
 * cadence's previous run still runs, or whose cadence no live cohort has, or a realtime tick that
 * finds another execution holding the tile store's lease, plans nothing and returns `skipped` (the
 * state machine then ends in Skipped), logged and counted (RunsSkipped). Every other run takes the
 * lease before planning (whose erasure rewrites tile days), or waits for it (TilesBusyError).
 */
export const handler = stepHandler({
  step: StateName.Plan,
  schema: planEventSchema,
  ports: planPorts,
  run: async (event, ports) => {
    const skipped = await skippedRun(event, ports);
    if (skipped) {
      logger.warn(`skipped (${skipped.skipped.reason})`, skipped.skipped);
      return skipped;
    }
    return planStep(event, ports);
  },
  measure: (output) => publishMetricPoints('skipped' in output ? skippedMetricPoints() : planMetricPoints(output.plan)),
});
