import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { QueryEngine } from '../../shared/ports.ts';
import { runRefreshStateMachine } from '../../shared/workflow/local-runner.ts';
import { refreshStateMachineAsl } from '../../infra/synthesized-definition.ts';
import type { LocalRun } from '../../shared/workflow/local-tasks.ts';
import { runRefreshSteps } from '../../shared/workflow/run-steps.ts';
import { writeDefinitions } from '../support/lake.ts';
import { alertsOf, FaultyBlobs, FaultyEngine, givenLake, givenWorld, portsOf, type World } from './support.ts';

const FIRST = '2024-06-01T00:00:00Z';
/** Later: active_users loses ann, so a successful run writes new versions. */
const LATER = '2024-06-06T12:00:00Z';

type Runner = (input: { as_of: string }, ports: ReturnType<typeof portsOf>) => Promise<LocalRun>;

/** A fault planted in a world that refreshed once; returns the engine the failing run uses. */
type Fault = (world: World, blobs: FaultyBlobs) => Promise<QueryEngine>;

const FAULTS: Record<string, Fault> = {
  Plan: async (world) => {
    await writeDefinitions(world.definitions, { 'broken.yaml': 'id: broken\nrule: [' });
    return world.engine;
  },
  Evaluate: async (world) => new FaultyEngine(world.engine, { evaluate: true }),
  SnapshotEach: async (world, blobs) => {
    blobs.failCreate = /^snapshots\/cohort=active_users\/version=2\/manifest\.json$/;
    return world.engine;
  },
  DeliverEach: async (world, blobs) => {
    blobs.failPut = /^exports\/cohort=active_users\/version=2\/exited\.parquet$/;
    return world.engine;
  },
  Finish: async (world) => new FaultyEngine(world.engine, { release: true }),
};

/** Refreshes a world of its own at FIRST, plants the fault, runs at LATER: the error and the `error` alert. */
async function failure(run: Runner, lake: { lake: string; definitions: string }, fault: Fault) {
  let blobs: FaultyBlobs | undefined;
  const world = await givenWorld(lake, (inner) => (blobs = new FaultyBlobs(inner)));
  await run({ as_of: FIRST }, portsOf(world));
  const engine = await fault(world, blobs as FaultyBlobs);
  const error = await run({ as_of: LATER }, portsOf(world, engine)).catch((e: unknown) => e);
  const alerts = (await alertsOf(world)).filter((a) => a.severity === 'error');
  // Each way has its own folders: they are left out of what is compared.
  const hide = (text: unknown) => String(text).replaceAll(dirname(lake.definitions), '<lake>');
  const { step, error: name, errorCause } = error as Record<string, unknown>;
  return {
    name: (error as Error).name,
    step,
    error: name,
    errorCause: hide(errorCause),
    alerts: alerts.map((a) => ({ step: a.step, cohorts: a.cohorts, title: hide(a.title) })),
  };
}

describe('the steps composed without the interpreter (runRefreshSteps)', () => {
  it.each(Object.keys(FAULTS))(
    'fail at %s as the state machine does: the same error, then one error alert naming the step',
    async (step) => {
      const fault = FAULTS[step] as Fault;
      // The definitions are edited by the Plan fault: each way gets its own lake folder.
      const machine = await failure(
        (input, ports) => runRefreshStateMachine(refreshStateMachineAsl, input, ports),
        await givenLake(),
        fault,
      );
      const steps = await failure(runRefreshSteps, await givenLake(), fault);

      expect(steps).toEqual(machine);
      expect(steps).toMatchObject({ name: 'RefreshFailedError', step, alerts: [{ step }] });
    },
  );
});
