import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { deliverStep } from '../shared/workflow/deliver-step.ts';
import { deliverEventSchema } from '../shared/workflow/events.ts';
import { StateName } from '../shared/workflow/state-names.ts';
import { stepHandler } from './commons/handler.ts';
import { deliverPorts } from './commons/ports.ts';
import { metrics } from './commons/powertools.ts';

/** One iteration of DeliverEach: exports of a published version, then its event. */
export const handler = stepHandler({
  step: StateName.Deliver,
  schema: deliverEventSchema,
  ports: deliverPorts,
  run: deliverStep,
  measure: (delivery) => {
    if (delivery.exports) metrics.addMetric('VersionsExported', MetricUnit.Count, 1);
    if (delivery.event) metrics.addMetric('EventsPublished', MetricUnit.Count, 1);
  },
});
