import { planEventSchema } from '../shared/workflow/events.ts';
import { planMetricPoints } from '../shared/workflow/run-metrics.ts';
import { StateName } from '../shared/workflow/state-names.ts';
import { planStep } from '../shared/workflow/steps.ts';
import { stepHandler } from './commons/handler.ts';
import { publishMetricPoints } from './commons/metric-points.ts';
import { planPorts } from './commons/ports.ts';

/** The Plan state: select, compile into one query, assign versions. */
export const handler = stepHandler({
  step: StateName.Plan,
  schema: planEventSchema,
  ports: planPorts,
  run: planStep,
  measure: ({ plan }) => publishMetricPoints(planMetricPoints(plan)),
});
