import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { finishEventSchema } from '../shared/workflow/events.ts';
import { StateName } from '../shared/workflow/state-names.ts';
import { finishStep } from '../shared/workflow/steps.ts';
import { stepHandler } from './commons/handler.ts';
import { finishPorts } from './commons/ports.ts';
import { metrics } from './commons/powertools.ts';

/** The Finish state: run summary, release of the evaluation, one alert when needed. */
export const handler = stepHandler({
  step: StateName.Finish,
  schema: finishEventSchema,
  ports: finishPorts,
  run: finishStep,
  measure: (summary) => {
    const count = (status: string) => summary.cohorts.filter((c) => c.status === status).length;
    metrics.addMetric('CohortsPublished', MetricUnit.Count, count('published'));
    metrics.addMetric('CohortsHeld', MetricUnit.Count, count('held'));
    metrics.addMetric('CohortsUnchanged', MetricUnit.Count, count('unchanged'));
    metrics.addMetric('RunDuration', MetricUnit.Milliseconds, summary.duration_ms);
  },
});
