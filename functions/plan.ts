import { SfnRunningExecutions } from '../shared/cloud/sfn-running-executions.ts';
import { planEventSchema } from '../shared/workflow/events.ts';
import { skippedByOverlap } from '../shared/workflow/overlap.ts';
import { planMetricPoints, skippedMetricPoints } from '../shared/workflow/run-metrics.ts';
import { StateName } from '../shared/workflow/state-names.ts';
import { planStep } from '../shared/workflow/steps.ts';
import { stepHandler } from './commons/handler.ts';
import { stepFunctions } from './commons/clients.ts';
import { readStateMachineArn } from './commons/config.ts';
import { publishMetricPoints } from './commons/metric-points.ts';
import { planPorts } from './commons/ports.ts';
import { logger } from './commons/powertools.ts';

/**
 * The Plan state: select, compile into one query, assign versions. A scheduled run whose
 * cadence's previous run still runs plans nothing and returns `skipped` (the state machine then
 * ends in Skipped), logged and counted (RunsSkipped).
 */
export const handler = stepHandler({
  step: StateName.Plan,
  schema: planEventSchema,
  ports: planPorts,
  run: async (event, ports) => {
    const skipped = await skippedByOverlap(event, new SfnRunningExecutions(stepFunctions, readStateMachineArn()));
    if (skipped) {
      logger.warn('skipped: an earlier run of this cadence still runs', skipped.skipped);
      return skipped;
    }
    return planStep(event, ports);
  },
  measure: (output) => publishMetricPoints('skipped' in output ? skippedMetricPoints() : planMetricPoints(output.plan)),
});
