import { finishEventSchema, releaseTilesEventSchema } from '../shared/workflow/events.ts';
import { runMetricPoints } from '../shared/workflow/run-metrics.ts';
import { StateName } from '../shared/workflow/state-names.ts';
import { finishStep } from '../shared/workflow/steps.ts';
import { type LambdaContext, stepHandler } from './commons/handler.ts';
import { publishMetricPoints } from './commons/metric-points.ts';
import { finishPorts, tileLease } from './commons/ports.ts';

/**
 * The Finish state: the tile store's lease given back (ReleaseTiles did it already, unless it
 * failed: only while this run still holds it, so nothing is given back twice) and the run's
 * delivering entry taken out, then the run summary, release of the evaluation, one alert when needed.
 */
const finish = stepHandler({
  step: StateName.Finish,
  schema: finishEventSchema,
  ports: finishPorts,
  run: async (event, ports) => {
    await tileLease().end(event.plan.run_id);
    return finishStep(event, ports);
  },
  measure: (summary) => publishMetricPoints(runMetricPoints(summary)),
});

/**
 * The ReleaseTiles state, right after Evaluate: gives the tile store's lease back while this run
 * still holds it (nothing after Evaluate reads or writes the tiles: Snapshot reads the run's own
 * evaluation table, Deliver and Finish versions and exports), so realtime ticks are not skipped
 * while this run snapshots and delivers, and records the run as delivering its plan's cohorts
 * until Finish or AlertFailure. Whether it gave the lease back.
 */
const releaseTiles = stepHandler({
  step: StateName.ReleaseTiles,
  schema: releaseTilesEventSchema,
  ports: tileLease,
  run: async ({ release_tiles: { run_id, cohorts } }, lease) => ({
    released: await lease.release(
      run_id,
      cohorts.map((c) => c.id),
    ),
  }),
});

/**
 * The Finish function serves two states (one function, one role: the lease's grant is Finish's
 * already): ReleaseTiles, whose input is `{ release_tiles: { run_id, cohorts } }`, and Finish.
 */
export const handler = (event: unknown, context?: LambdaContext): Promise<unknown> =>
  typeof event === 'object' && event !== null && 'release_tiles' in event ? releaseTiles(event, context) : finish(event, context);
