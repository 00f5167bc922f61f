import { finishEventSchema } from '../shared/workflow/events.ts';
import { runMetricPoints } from '../shared/workflow/run-metrics.ts';
import { StateName } from '../shared/workflow/state-names.ts';
import { finishStep } from '../shared/workflow/steps.ts';
import { stepHandler } from './commons/handler.ts';
import { publishMetricPoints } from './commons/metric-points.ts';
import { finishPorts, tileLease } from './commons/ports.ts';

/**
 * The Finish state: the tile store's lease given back (nothing after Evaluate reads the tiles; only
 * while this run still holds it, so a retried Finish gives nothing back twice), then the run
 * summary, release of the evaluation, one alert when needed.
 */
export const handler = stepHandler({
  step: StateName.Finish,
  schema: finishEventSchema,
  ports: finishPorts,
  run: async (event, ports) => {
    await tileLease().release(event.plan.run_id);
    return finishStep(event, ports);
  },
  measure: (summary) => publishMetricPoints(runMetricPoints(summary)),
});
