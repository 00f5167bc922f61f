import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { snapshotEventSchema } from '../shared/workflow/events.ts';
import { StateName } from '../shared/workflow/state-names.ts';
import { snapshotStep } from '../shared/workflow/steps.ts';
import { stepHandler } from './commons/handler.ts';
import { snapshotPorts } from './commons/ports.ts';
import { metrics } from './commons/powertools.ts';

/** One iteration of SnapshotEach: checks, a new version, publication when no check failed. */
export const handler = stepHandler({
  step: StateName.Snapshot,
  schema: snapshotEventSchema,
  ports: snapshotPorts,
  run: snapshotStep,
  measure: (outcome) => {
    metrics.addMetric('Members', MetricUnit.Count, outcome.size);
    if (outcome.status === 'held') metrics.addMetric('VersionsHeld', MetricUnit.Count, 1);
  },
});
