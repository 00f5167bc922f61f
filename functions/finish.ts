import { finishEventSchema } from '../shared/workflow/events.ts';
import { runMetricPoints } from '../shared/workflow/run-metrics.ts';
import { StateName } from '../shared/workflow/state-names.ts';
import { finishStep } from '../shared/workflow/steps.ts';
import { stepHandler } from './commons/handler.ts';
import { publishMetricPoints } from './commons/metric-points.ts';
import { finishPorts } from './commons/ports.ts';

/** The Finish state: run summary, release of the evaluation, one alert when needed. */
export const handler = stepHandler({
  step: StateName.Finish,
  schema: finishEventSchema,
  ports: finishPorts,
  run: finishStep,
  measure: (summary) => publishMetricPoints(runMetricPoints(summary)),
});
