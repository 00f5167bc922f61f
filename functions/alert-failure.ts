import { alertFailureEventSchema } from '../shared/workflow/events.ts';
import { failedRunMetricPoints } from '../shared/workflow/run-metrics.ts';
import { StateName } from '../shared/workflow/state-names.ts';
import { alertFailureStep } from '../shared/workflow/steps.ts';
import { stepHandler } from './commons/handler.ts';
import { publishMetricPoints } from './commons/metric-points.ts';
import { alertFailurePorts, tileLease } from './commons/ports.ts';
import { logger } from './commons/powertools.ts';

/** The run id of a failed execution: its name, the last part of the execution ARN Step Functions records in `$.failed`. */
const runIdOf = (executionArn: string): string => executionArn.slice(executionArn.lastIndexOf(':') + 1);

/**
 * The AlertFailure state: the `error` alert naming the failed step, then (best effort, after the
 * alert) the tile store's lease given back when this run still holds it, its waiting entry taken
 * out, and its delivering entry kept until its invocations still running in a failed Map's other
 * iterations have stopped (TileLease.failed): a run that failed in Plan after taking it has no plan
 * yet, so the run is named by its execution.
 */
export const handler = stepHandler({
  step: StateName.AlertFailure,
  schema: alertFailureEventSchema,
  ports: alertFailurePorts,
  run: async (event, ports) => {
    const result = await alertFailureStep(event, ports);
    try {
      return { ...result, lease_released: await tileLease().failed(runIdOf(event.failed.execution)) };
    } catch (error) {
      logger.warn("the tile store's lease could not be given back", { error: error instanceof Error ? error.message : String(error) });
      return { ...result, lease_released: false };
    }
  },
  measure: (result) => {
    publishMetricPoints(failedRunMetricPoints());
    if (result.release_error) logger.warn('the evaluation could not be released', { release_error: result.release_error });
  },
});
