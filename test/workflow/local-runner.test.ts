import { beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../shared/store/manifest.ts';
import type { Delivery } from '../../shared/workflow/types.ts';
import { runRefreshStateMachine } from '../../shared/workflow/local-runner.ts';
import { refreshStateMachineAsl } from '../../infra/synthesized-definition.ts';
import type { LocalRun } from '../../shared/workflow/local-tasks.ts';
import { runRefreshSteps } from '../../shared/workflow/run-steps.ts';
import { WARN_ONLY_SOURCE_CHECKS } from '../support/config.ts';
import { header, writeDefinitions } from '../support/lake.ts';
import { alertsOf, COHORTS, currents, eventsOf, givenLake, givenWorld, portsOf, type World } from './support.ts';

/** What must agree between the two ways of running: everything but run ids and clocks. */
/** A manifest without what differs between worlds: when it was written, the run id, the state folder the tiles are in. */
const comparableManifest = ({ created_at, lineage, ...rest }: Manifest, state: string) => ({
  ...rest,
  lineage: { ...lineage, run_id: 'x', query: lineage.query.replaceAll(state, '<state>') },
});

/** A delivery without where it went (each world has its own state folder). */
const comparableDelivery = ({ exports, ...rest }: Delivery) => ({ ...rest, exported: exports !== null });

/** A run without its run id, clocks and folders. */
const comparableRun = ({ summary, plan }: LocalRun) => ({
  cohorts: summary.cohorts,
  deliveries: summary.deliveries.map(comparableDelivery),
  as_of: summary.as_of,
  trigger: summary.trigger,
  population: summary.population,
  alert: summary.alert,
  query: plan.query,
});

async function versionsOf(world: World) {
  const result: Record<string, unknown> = {};
  for (const id of COHORTS) {
    const manifests = await world.store.manifests(id);
    result[id] = await Promise.all(
      manifests.map(async (m) => ({ manifest: comparableManifest(m, world.state), members: await world.store.members(id, m.version) })),
    );
  }
  return result;
}

describe('the refresh state machine run locally', () => {
  beforeAll(async () => {
    // Synthesizing the CDK app and validating the definition is the one slow part; once per process.
    await runRefreshStateMachine(refreshStateMachineAsl, { cohorts: ['payers'] }, portsOf(await givenWorld(await givenLake())));
  });

  it('composes the steps as runRefreshSteps does: the same summaries, versions, members, manifests and events, run after run', async () => {
    // Prepare: two worlds over the same lake, each with its own state folder
    const lake = await givenLake();
    const steps = await givenWorld(lake);
    const machine = await givenWorld(lake);
    const timings: Record<string, number[]> = { steps: [], stateMachine: [] };

    for (const asOf of ['2024-06-01T00:00:00Z', '2024-06-06T12:00:00Z', '2024-06-06T12:00:00Z']) {
      // Act
      let started = performance.now();
      const expected = await runRefreshSteps({ as_of: asOf }, portsOf(steps));
      timings.steps?.push(performance.now() - started);
      started = performance.now();
      const actual = await runRefreshStateMachine(refreshStateMachineAsl, { as_of: asOf }, portsOf(machine));
      timings.stateMachine?.push(performance.now() - started);

      // Assess
      expect(comparableRun(actual)).toEqual(comparableRun(expected));
    }
    expect(await versionsOf(machine)).toEqual(await versionsOf(steps));
    expect(await currents(machine)).toEqual(await currents(steps));
    const announced = async (world: World) => (await eventsOf(world)).map((e) => [e['detail-type'], e.detail.cohort, e.detail.version]);
    expect(await announced(machine)).toEqual(await announced(steps));
    console.info(
      `tiny lake, ms per run (3 runs): steps ${timings.steps?.map(Math.round).join(', ')}; state machine ${timings.stateMachine?.map(Math.round).join(', ')}`,
    );
  });

  it('uses the execution name as the run id, in lineage and in the summary', async () => {
    const world = await givenWorld(await givenLake());

    const { summary } = await runRefreshStateMachine(refreshStateMachineAsl, { as_of: '2024-06-01T00:00:00Z' }, portsOf(world), {
      runId: 'run-2024-06-01',
    });

    expect(summary.run_id).toBe('run-2024-06-01');
    expect((await world.store.manifest('payers', 1))?.lineage.run_id).toBe('run-2024-06-01');
  });

  it('sends one fail alert naming the held cohort, and none when nothing new was written', async () => {
    const lake = await givenLake();
    await writeDefinitions(lake.definitions, {
      'big_cohort.yaml': `${header('big_cohort')}rule:\n  event: login\nquality:\n  min_size: 4\n`,
    });
    const world = await givenWorld(lake);

    const { summary: held } = await runRefreshStateMachine(
      refreshStateMachineAsl,
      { as_of: '2024-06-01T00:00:00Z', cohorts: ['big_cohort'] },
      portsOf(world),
    );
    const { summary: again } = await runRefreshStateMachine(
      refreshStateMachineAsl,
      { as_of: '2024-06-01T00:00:00Z', cohorts: ['big_cohort'], trigger: 'schedule:daily' },
      portsOf(world),
    );

    expect(held.alert).toBe('fail');
    expect(again.alert).toBeNull();
    const alerts = await alertsOf(world);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'fail', cohorts: ['big_cohort'], run_id: held.run_id });
    expect(alerts[0]?.body).toContain('only 3 members, below the minimum of 4');
  });

  it('sends an info alert saying which cohorts moved, by how much, and which programs they feed', async () => {
    const lake = await givenLake();
    await writeDefinitions(lake.definitions, {
      'logins.yaml': `${header('logins')}rule:\n  event: login\nprogram:\n  experiment: win-back-test\n  outcome_metric: reactivation_rate\n`,
    });
    const world = await givenWorld(lake);

    // Sources fresh enough that no source check warns: only the move is news.
    const config = { ...WARN_ONLY_SOURCE_CHECKS, defaults: { freshness_hours: 24 * 365 } };
    const { summary } = await runRefreshStateMachine(
      refreshStateMachineAsl,
      { as_of: '2024-06-01T00:00:00Z', cohorts: ['logins'] },
      { ...portsOf(world), config },
    );

    expect(summary.alert).toBe('info');
    const [alert] = await alertsOf(world);
    expect(alert).toMatchObject({ severity: 'info', cohorts: ['logins'] });
    expect(alert?.body).toContain('logins v1: 3 members (first version)');
    expect(alert?.body).toContain('win-back-test (outcome: reactivation_rate) now targets 3 members of logins (3 new, 0 gone)');
  });

  it('refuses a bad execution input before anything runs', async () => {
    const world = await givenWorld(await givenLake());

    const run = runRefreshStateMachine(refreshStateMachineAsl, { as_of: 'yesterday', cohorts: ['Active Users'] } as never, portsOf(world));

    await expect(run).rejects.toMatchObject({
      name: 'InvalidEventError',
      problems: [expect.stringContaining('as_of'), expect.stringContaining('cohorts.0')],
    });
  });
});
