import { describe, expect, it } from 'vitest';
import type { CohortEvent, CohortEvents } from '../../shared/deliver/events.ts';
import { JsonlEvents } from '../../shared/local/jsonl-events.ts';
import { runRefreshStateMachine } from '../../shared/workflow/local-runner.ts';
import { refreshStateMachineAsl } from '../../infra/synthesized-definition.ts';
import { WARN_ONLY_SOURCE_CHECKS } from '../support/config.ts';
import { SimulatedCrash } from './crash-support.ts';
import { eventsOf, givenLake, givenWorld, portsOf, type World } from './support.ts';

const A = '2024-06-01T00:00:00.000Z';

/** Events that die (like the process) on the first publish holding an event of a kind, after appending `before` of them. */
function dyingEvents(world: World, kind: CohortEvent['detailType'], before = 0): CohortEvents {
  const inner = JsonlEvents.inState(world.state);
  let dead = false;
  return {
    publish: async (events) => {
      if (!dead && events.some((e) => e.detailType === kind)) {
        dead = true;
        await inner.publish(events.slice(0, before));
        throw new SimulatedCrash(`killed while sending ${kind}`);
      }
      if (dead) throw new SimulatedCrash('dead');
      await inner.publish(events);
    },
  };
}

/** `cohort@version person` of every member event of a kind in the world's event log, sorted, repeats kept. */
const movers = async (world: World, kind: string) =>
  (await eventsOf(world))
    .filter((e) => e['detail-type'] === kind)
    .map((e) => `${e.detail.cohort}@${e.detail.version} ${e.detail.person_id}`)
    .sort();

/** Published first versions: every member entered (big_cohort's 3 meet its min_size of 3). */
const PUBLISHED = ['active_users', 'payers', 'active_payers', 'big_cohort'];

/** `cohort@1 person` for every member of the published first versions, sorted. */
async function everyoneEntered(world: World): Promise<string[]> {
  const expected: string[] = [];
  for (const cohort of PUBLISHED) for (const id of await world.store.members(cohort, 1)) expected.push(`${cohort}@1 ${id}`);
  return expected.sort();
}

describe('per-member events and a crash in Deliver', () => {
  it('a run that died after the export, part-way through the member events, has every one sent by the next run', async () => {
    const world = await givenWorld(await givenLake());
    await expect(
      runRefreshStateMachine(
        refreshStateMachineAsl,
        { as_of: A },
        { ...portsOf(world), events: dyingEvents(world, 'Cohort Entered', 1) },
        {
          retryDelayMs: 0,
        },
      ),
    ).rejects.toThrow();
    expect(await movers(world, 'Cohort Entered')).toHaveLength(1);

    await runRefreshStateMachine(refreshStateMachineAsl, { as_of: A }, portsOf(world), { retryDelayMs: 0 });
    await runRefreshStateMachine(refreshStateMachineAsl, { as_of: A }, portsOf(world), { retryDelayMs: 0 });

    // Every member of every published first version entered, at least once (the one sent before the crash twice).
    expect([...new Set(await movers(world, 'Cohort Entered'))]).toEqual(await everyoneEntered(world));
    const refreshed = (await eventsOf(world)).filter((e) => e['detail-type'] === 'Cohort Refreshed').map((e) => e.detail.cohort);
    expect(refreshed.sort()).toEqual([...PUBLISHED].sort());
  });

  it('a run that died after the member events and before the version event sends both again', async () => {
    const world = await givenWorld(await givenLake());
    await expect(
      runRefreshStateMachine(
        refreshStateMachineAsl,
        { as_of: A },
        { ...portsOf(world), events: dyingEvents(world, 'Cohort Refreshed') },
        {
          retryDelayMs: 0,
        },
      ),
    ).rejects.toThrow();
    const sentBefore = await movers(world, 'Cohort Entered');
    expect(sentBefore.length).toBeGreaterThan(0);

    await runRefreshStateMachine(refreshStateMachineAsl, { as_of: A }, portsOf(world), { retryDelayMs: 0 });

    const after = await movers(world, 'Cohort Entered');
    // The crashed cohort's movers twice (consumers dedupe on cohort, version, person_id, detail-type), nobody lost.
    for (const line of sentBefore) expect(after.filter((l) => l === line)).toHaveLength(2);
    expect([...new Set(after)]).toEqual(await everyoneEntered(world));
  });
});

describe('the member events limit of the project config (per run)', () => {
  it('sends per-member events for the versions that fit in what the run has left, in the run order, and one Cohort Members Changed naming the export files for each that does not', async () => {
    const world = await givenWorld(await givenLake());
    // active_users moves 2 people, payers 1, active_payers 1, big_cohort 3 (in the run's order)
    const config = { ...WARN_ONLY_SOURCE_CHECKS, events: { member_events_max: 3 } };

    const { summary } = await runRefreshStateMachine(refreshStateMachineAsl, { as_of: A }, { ...portsOf(world), config });

    expect(summary.deliveries.map((d) => d.cohort)).toEqual(PUBLISHED);
    expect(summary.cohorts.map((c) => c.entered + c.exited)).toEqual([2, 1, 1, 3]);
    const events = await eventsOf(world);
    // active_users (2) and payers (1) fit in 3; active_payers (1 more: 4) and big_cohort (3 more) do not
    expect(await movers(world, 'Cohort Entered')).toEqual(
      [...(await world.store.members('active_users', 1)).map((id) => `active_users@1 ${id}`), 'payers@1 ann'].sort(),
    );
    expect(events.filter((e) => e.detail.cohort === 'active_payers').map((e) => e['detail-type'])).toEqual([
      'Cohort Members Changed',
      'Cohort Refreshed',
    ]);
    const pointer = events.find((e) => e['detail-type'] === 'Cohort Members Changed' && e.detail.cohort === 'big_cohort');
    const big = summary.deliveries.find((d) => d.cohort === 'big_cohort');
    expect(pointer?.detail).toEqual({
      cohort: 'big_cohort',
      version: 1,
      as_of: A,
      run_id: summary.run_id,
      entered: 3,
      exited: 0,
      member_events_max: 3,
      locations: {
        folder: big?.exports?.folder,
        entered_csv: big?.exports?.entered_csv,
        exited_csv: big?.exports?.exited_csv,
        entered_parquet: big?.exports?.entered_parquet,
        exited_parquet: big?.exports?.exited_parquet,
      },
    });
    // Each delivery counts the member events it sent (the CLI's summary adds them up): 3 within the limit, and 2 pointers.
    const sent = Object.fromEntries(summary.deliveries.map((d) => [d.cohort, d.member_events]));
    expect(sent).toEqual({ active_users: 2, payers: 1, active_payers: 1, big_cohort: 1 });
  });
});
