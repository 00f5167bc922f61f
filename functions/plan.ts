import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { planEventSchema } from '../shared/workflow/events.ts';
import { StateName } from '../shared/workflow/state-names.ts';
import { planStep } from '../shared/workflow/steps.ts';
import { stepHandler } from './commons/handler.ts';
import { planPorts } from './commons/ports.ts';
import { metrics } from './commons/powertools.ts';

/** The Plan state: select, compile into one query, assign versions. */
export const handler = stepHandler({
  step: StateName.Plan,
  schema: planEventSchema,
  ports: planPorts,
  run: planStep,
  measure: ({ plan }) => metrics.addMetric('CohortsPlanned', MetricUnit.Count, plan.cohorts.length),
});
