import { alertFailureEventSchema } from '../shared/workflow/events.ts';
import { failedRunMetricPoints } from '../shared/workflow/run-metrics.ts';
import { StateName } from '../shared/workflow/state-names.ts';
import { alertFailureStep } from '../shared/workflow/steps.ts';
import { stepHandler } from './commons/handler.ts';
import { publishMetricPoints } from './commons/metric-points.ts';
import { alertFailurePorts } from './commons/ports.ts';
import { logger } from './commons/powertools.ts';

/** The AlertFailure state: the `error` alert naming the failed step. */
export const handler = stepHandler({
  step: StateName.AlertFailure,
  schema: alertFailureEventSchema,
  ports: alertFailurePorts,
  run: alertFailureStep,
  measure: (result) => {
    publishMetricPoints(failedRunMetricPoints());
    if (result.release_error) logger.warn('the evaluation could not be released', { release_error: result.release_error });
  },
});
