import { snapshotEventSchema } from '../shared/workflow/events.ts';
import { cohortMetricPoints } from '../shared/workflow/run-metrics.ts';
import { StateName } from '../shared/workflow/state-names.ts';
import { snapshotStep } from '../shared/workflow/steps.ts';
import { stepHandler } from './commons/handler.ts';
import { publishMetricPoints } from './commons/metric-points.ts';
import { snapshotPorts } from './commons/ports.ts';

/** One iteration of SnapshotEach: checks, a new version, publication when no check failed. */
export const handler = stepHandler({
  step: StateName.Snapshot,
  schema: snapshotEventSchema,
  ports: snapshotPorts,
  run: snapshotStep,
  measure: (outcome) => publishMetricPoints(cohortMetricPoints(outcome)),
});
