import { describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import { SnapshotStore } from '../../shared/store/snapshot-store.ts';
import { BlobExports } from '../../shared/deliver/exports.ts';
import { runRefreshStateMachine } from '../../shared/workflow/local-runner.ts';
import { refreshStateMachineAsl } from '../../infra/synthesized-definition.ts';
import { CrashingBlobs, restarted } from './crash-support.ts';
import { eventsOf, givenLake, givenWorld, portsOf, type World } from './support.ts';

const A = '2024-06-01T00:00:00.000Z';
const B = '2024-06-02T00:00:00.000Z';
const C = '2024-06-03T00:00:00.000Z';

/** The world whose store dies just before `current.json` of a cohort is swapped (after its manifest). */
function dyingBeforeCurrent(world: World, cohort: string): World {
  const blobs = new CrashingBlobs(
    new FsBlobStore(world.state),
    (w) => w.op === 'putIfUnchanged' && w.key === `snapshots/cohort=${cohort}/current.json`,
  );
  return { ...world, blobs, store: new SnapshotStore(blobs, world.engine) };
}

const run = (world: World, asOf: string) =>
  runRefreshStateMachine(refreshStateMachineAsl, { as_of: asOf }, portsOf(world), { retryDelayMs: 0 });

async function refreshedEvents(world: World, cohort: string) {
  return (await eventsOf(world))
    .filter((e) => e['detail-type'] === 'Cohort Refreshed' && e.detail.cohort === cohort)
    .map((e) => e.detail.version);
}

const latestExport = (world: World, cohort: string) => new BlobExports(world.blobs, world.engine).latestVersion(cohort);

describe('a crash between a version manifest and current.json (D1)', () => {
  it('is repaired by the next run with the same as-of: published, then exported and announced once', async () => {
    // Prepare: v1 of every cohort; then a run as of B killed just before payers' current.json moves to v2
    const world = await givenWorld(await givenLake());
    await run(world, A);
    await expect(run(dyingBeforeCurrent(world, 'payers'), B)).rejects.toThrow();
    const after = restarted(world);
    expect(await after.store.manifest('payers', 2)).toMatchObject({ status: 'published', previous_version: 1 });
    expect(await after.store.current('payers')).toBe(1);

    // Act: the same refresh again
    const { summary } = await run(after, B);

    // Assess: current moved to the version the crashed run wrote, and only then was it exported and announced, once
    expect(summary.cohorts.find((c) => c.cohort === 'payers')).toMatchObject({ version: 2 });
    expect(await after.store.current('payers')).toBe(2);
    expect(await latestExport(after, 'payers')).toBe(2);
    expect(await refreshedEvents(after, 'payers')).toEqual([1, 2]);
    expect((await after.store.lostPublishes('payers')).size).toBe(0);
    // The next as-of is computed against v2, so a delta consumer never counts v2's people twice.
    await run(after, C);
    expect(await after.store.manifest('payers', 3)).toMatchObject({ previous_version: 2 });
    expect(await refreshedEvents(after, 'payers')).toEqual([1, 2, 3]);
  });

  it('is repaired on a first run too: the cohort gets its current version before any export', async () => {
    const world = await givenWorld(await givenLake());
    await expect(run(dyingBeforeCurrent(world, 'active_users'), A)).rejects.toThrow();
    const after = restarted(world);
    expect(await after.store.current('active_users')).toBeUndefined();

    await run(after, A);

    expect(await after.store.current('active_users')).toBe(1);
    expect(await latestExport(after, 'active_users')).toBe(1);
    expect(await refreshedEvents(after, 'active_users')).toEqual([1]);
  });

  it('is marked lost when the next run has a new as-of (the cloud next execution): never exported, never called published', async () => {
    const world = await givenWorld(await givenLake());
    await run(world, A);
    await expect(run(dyingBeforeCurrent(world, 'payers'), B)).rejects.toThrow();
    const after = restarted(world);

    await run(after, C);

    expect(await after.store.current('payers')).toBe(3);
    expect(await after.store.manifest('payers', 3)).toMatchObject({ previous_version: 1 });
    expect((await after.store.lostPublishes('payers')).get(2)).toMatchObject({ version: 2, computed_against: 1, current_version: 3 });
    expect((await after.store.publishedManifests('payers')).map((m) => m.version)).toEqual([1, 3]);
    expect(await refreshedEvents(after, 'payers')).toEqual([1, 3]);
  });
});
