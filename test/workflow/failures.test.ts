import { describe, expect, it } from 'vitest';
import type { QueryEngine } from '../../shared/ports.ts';
import { TransientError } from '../../shared/workflow/errors.ts';
import { runRefreshStateMachine } from '../../shared/workflow/local-runner.ts';
import { refreshStateMachineAsl } from '../../infra/synthesized-definition.ts';
import { RefreshFailedError } from '../../shared/workflow/local-tasks.ts';
import { writeDefinitions } from '../support/lake.ts';
import { alertsOf, COHORTS, currents, eventsOf, FaultyBlobs, FaultyEngine, givenLake, givenWorld, portsOf, type World } from './support.ts';

const FIRST = '2024-06-01T00:00:00Z';
/** Later: active_users loses ann, so a successful run would write new versions. */
const LATER = '2024-06-06T12:00:00Z';

/** A world that refreshed once successfully at FIRST; faults can then be switched on. */
async function givenRefreshedWorld(): Promise<{ world: World; blobs: FaultyBlobs }> {
  let blobs: FaultyBlobs | undefined;
  const world = await givenWorld(await givenLake(), (inner) => (blobs = new FaultyBlobs(inner)));
  await runRefreshStateMachine(refreshStateMachineAsl, { as_of: FIRST }, portsOf(world));
  return { world, blobs: blobs as FaultyBlobs };
}

/** Runs at LATER and returns the error the run failed with. */
async function failingRun(world: World, engine: QueryEngine = world.engine): Promise<RefreshFailedError> {
  const error = await runRefreshStateMachine(refreshStateMachineAsl, { as_of: LATER }, portsOf(world, engine)).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RefreshFailedError);
  return error as RefreshFailedError;
}

/** The one `error` alert of the failed run (the first run sent only its own `fail` alert). */
async function errorAlert(world: World) {
  const alerts = (await alertsOf(world)).filter((a) => a.severity === 'error');
  expect(alerts).toHaveLength(1);
  return alerts[0];
}

/** A cohort's exports `latest.json`, if any. */
async function latestExport(world: World, cohort: string): Promise<Record<string, unknown> | undefined> {
  const bytes = await world.blobs.get(`exports/cohort=${cohort}/latest.json`);
  return bytes ? (JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>) : undefined;
}

/** Every current.json names a version whose manifest and members are complete and that was published. */
async function expectEveryCurrentComplete(world: World) {
  for (const id of COHORTS) {
    const current = await world.store.current(id);
    if (current === undefined) continue;
    const manifest = await world.store.manifest(id, current);
    expect(manifest?.status, id).toBe('published');
    await expect(world.store.members(id, current)).resolves.toHaveLength(manifest?.size ?? -1);
  }
}

describe('a transient failure in the refresh state machine', () => {
  it('is retried by the definition and the run succeeds, without an error alert', async () => {
    // Prepare: the definitions cannot be read the first time
    const world = await givenWorld(await givenLake());
    const ports = portsOf(world);
    let attempts = 0;
    const definitions = async () => {
      attempts += 1;
      if (attempts === 1) throw new TransientError('the definitions bucket is busy');
      return ports.definitions();
    };
    // Act
    const { summary } = await runRefreshStateMachine(
      refreshStateMachineAsl,
      { as_of: FIRST },
      { ...ports, definitions },
      { retryDelayMs: 0 },
    );
    // Assess
    expect(attempts).toBe(2);
    expect(summary.cohorts).toHaveLength(4);
    expect((await alertsOf(world)).filter((a) => a.severity === 'error')).toEqual([]);
  });
});

describe('a failure in the refresh state machine', () => {
  it('at Plan fails the execution, leaves every current.json as it was and alerts naming Plan', async () => {
    // Prepare
    const { world } = await givenRefreshedWorld();
    const before = await currents(world);
    await writeDefinitions(world.definitions, { 'broken.yaml': 'id: broken\nrule: [' });
    // Act
    const error = await failingRun(world);
    // Assess
    expect(error).toMatchObject({ step: 'Plan', error: 'InvalidDefinitionsError' });
    expect(await currents(world)).toEqual(before);
    expect(await errorAlert(world)).toMatchObject({
      step: 'Plan',
      title: expect.stringContaining('failed at Plan: InvalidDefinitionsError'),
    });
  });

  it('at Evaluate fails the execution, leaves every current.json as it was and alerts naming Evaluate', async () => {
    const { world } = await givenRefreshedWorld();
    const before = await currents(world);

    const error = await failingRun(world, new FaultyEngine(world.engine, { evaluate: true }));

    expect(error).toMatchObject({ step: 'Evaluate', error: 'InjectedFault', errorCause: 'the engine ran out of memory' });
    expect(await currents(world)).toEqual(before);
    expect(await errorAlert(world)).toMatchObject({ step: 'Evaluate', cohorts: [...COHORTS] });
  });

  it('at one Snapshot fails the execution, never publishes that cohort, and never points current at an incomplete version', async () => {
    // Prepare: writing active_users' new manifest fails after its members were written
    const { world, blobs } = await givenRefreshedWorld();
    const before = await currents(world);
    blobs.failCreate = /^snapshots\/cohort=active_users\/version=2\/manifest\.json$/;
    // Act
    const error = await failingRun(world);
    // Assess
    expect(error).toMatchObject({ step: 'SnapshotEach', error: 'InjectedFault' });
    expect((await currents(world)).active_users).toEqual(before.active_users);
    expect(await world.store.versions('active_users')).toEqual([1]);
    await expectEveryCurrentComplete(world);
    expect(await errorAlert(world)).toMatchObject({
      step: 'SnapshotEach',
      body: expect.stringContaining('snapshots/cohort=active_users/version=2/manifest.json'),
    });
  });

  it('at one Snapshot is repaired by the next run, which skips the half-written version number', async () => {
    const { world, blobs } = await givenRefreshedWorld();
    blobs.failCreate = /^snapshots\/cohort=active_users\/version=2\/manifest\.json$/;
    await failingRun(world);
    blobs.failCreate = undefined;

    const { summary: repaired } = await runRefreshStateMachine(refreshStateMachineAsl, { as_of: LATER }, portsOf(world));

    expect(repaired.cohorts.find((c) => c.cohort === 'active_users')).toMatchObject({
      status: 'published',
      version: 3,
      previous_version: 1,
    });
    expect(await world.store.current('active_users')).toBe(3);
    await expectEveryCurrentComplete(world);
  });

  it('at one Snapshot reading its members leaves that cohort where it was', async () => {
    const { world } = await givenRefreshedWorld();
    const before = await currents(world);

    const error = await failingRun(world, new FaultyEngine(world.engine, { membersOf: 'c_active_users' }));

    expect(error).toMatchObject({ step: 'SnapshotEach', errorCause: 'reading c_active_users failed' });
    expect((await currents(world)).active_users).toEqual(before.active_users);
    expect(await world.store.versions('active_users')).toEqual([1]);
    await expectEveryCurrentComplete(world);
  });

  it('at one Deliver fails the execution, never announces that version, and leaves its exports where they were', async () => {
    // Prepare: writing active_users' new exports fails halfway
    const { world, blobs } = await givenRefreshedWorld();
    const events = await eventsOf(world);
    blobs.failPut = /^exports\/cohort=active_users\/version=2\/exited\.parquet$/;
    // Act
    const error = await failingRun(world);
    // Assess
    expect(error).toMatchObject({ step: 'DeliverEach', error: 'InjectedFault' });
    expect(await latestExport(world, 'active_users')).toMatchObject({ version: 1 });
    const announced = (await eventsOf(world)).slice(events.length);
    expect(announced.some((e) => e.detail.cohort === 'active_users')).toBe(false);
    // Snapshot had published every version it completed; Deliver writes no current.json.
    await expectEveryCurrentComplete(world);
    expect(await world.store.current('active_users')).toBe(2);
    expect(await errorAlert(world)).toMatchObject({
      step: 'DeliverEach',
      body: expect.stringContaining('exports/cohort=active_users/version=2/exited.parquet'),
    });
  });

  it('at one Deliver is repaired by the next run, which exports and announces the version it had not', async () => {
    const { world, blobs } = await givenRefreshedWorld();
    blobs.failPut = /^exports\/cohort=active_users\/version=2\//;
    await failingRun(world);
    blobs.failPut = undefined;
    const events = await eventsOf(world);

    const { summary: repaired } = await runRefreshStateMachine(refreshStateMachineAsl, { as_of: LATER }, portsOf(world));

    expect(repaired.cohorts.find((c) => c.cohort === 'active_users')).toMatchObject({ status: 'unchanged', version: 2 });
    expect(repaired.deliveries.filter((d) => d.event !== null).map((d) => d.cohort)).toEqual(['active_users']);
    expect(await latestExport(world, 'active_users')).toMatchObject({ version: 2, exited: 1 });
    const announced = (await eventsOf(world)).slice(events.length);
    expect(announced).toEqual([
      expect.objectContaining({
        'detail-type': 'Cohort Exited',
        detail: expect.objectContaining({ cohort: 'active_users', version: 2, person_id: 'ann' }),
      }),
      expect.objectContaining({
        'detail-type': 'Cohort Refreshed',
        detail: expect.objectContaining({ cohort: 'active_users', version: 2 }),
      }),
    ]);
  });

  it('at Finish fails the execution after every snapshot completed, and alerts naming Finish', async () => {
    const { world } = await givenRefreshedWorld();
    const before = await currents(world);

    const error = await failingRun(world, new FaultyEngine(world.engine, { release: true }));

    expect(error).toMatchObject({ step: 'Finish', error: 'InjectedFault' });
    // Each Snapshot published the version it had completely written and checked; Finish writes
    // no current.json, so a failure there cannot move one (nor take one back).
    await expectEveryCurrentComplete(world);
    expect(await currents(world)).not.toEqual(before);
    for (const id of COHORTS) expect(await world.store.current(id), id).toBe(2);
    expect(await errorAlert(world)).toMatchObject({ step: 'Finish', severity: 'error' });
  });
});
