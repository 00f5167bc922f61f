import { SfnRunningExecutions } from '../shared/cloud/sfn-running-executions.ts';
import { type PlanEvent, planEventSchema } from '../shared/workflow/events.ts';
import { type SkippedRun, skippedByOverlap, skippedWithoutCohorts } from '../shared/workflow/overlap.ts';
import type { PlanPorts } from '../shared/workflow/types.ts';
import { planMetricPoints, skippedMetricPoints } from '../shared/workflow/run-metrics.ts';
import { StateName } from '../shared/workflow/state-names.ts';
import { planStep } from '../shared/workflow/steps.ts';
import { stepHandler } from './commons/handler.ts';
import { stepFunctions } from './commons/clients.ts';
import { readStateMachineArn } from './commons/config.ts';
import { publishMetricPoints } from './commons/metric-points.ts';
import { planPorts } from './commons/ports.ts';
import { logger } from './commons/powertools.ts';

/** Why a scheduled run must not start, if it must not: its cadence has no cohort, or its previous run still runs. */
async function skippedScheduledRun(event: PlanEvent, ports: PlanPorts): Promise<SkippedRun | undefined> {
  return (
    skippedWithoutCohorts(event, await ports.definitions()) ??
    (await skippedByOverlap(event, new SfnRunningExecutions(stepFunctions, readStateMachineArn())))
  );
}

/**
 * The Plan state: select, compile into one query, assign versions. A scheduled run whose
 * cadence's previous run still runs, or whose cadence no live cohort has, plans nothing and returns
 * `skipped` (the state machine then ends in Skipped), logged and counted (RunsSkipped).
 */
export const handler = stepHandler({
  step: StateName.Plan,
  schema: planEventSchema,
  ports: planPorts,
  run: async (event, ports) => {
    const skipped = event.request.cadence === undefined ? undefined : await skippedScheduledRun(event, ports);
    if (skipped) {
      logger.warn(`skipped (${skipped.skipped.reason})`, skipped.skipped);
      return skipped;
    }
    return planStep(event, ports);
  },
  measure: (output) => publishMetricPoints('skipped' in output ? skippedMetricPoints() : planMetricPoints(output.plan)),
});
