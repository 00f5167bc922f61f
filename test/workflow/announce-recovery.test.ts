import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CohortEvent, CohortEvents } from '../../shared/deliver/events.ts';
import { JsonlEvents } from '../../shared/local/jsonl-events.ts';
import { appendJsonLines, readJsonLines } from '../../shared/local/append-json-lines.ts';
import { stateCatalog } from '../../shared/local/state-catalog.ts';
import { LocalOutbox } from '../../shared/local/local-outbox.ts';
import { runRefreshStateMachine } from '../../shared/workflow/local-runner.ts';
import { refreshStateMachineAsl } from '../../infra/synthesized-definition.ts';
import { tempDir } from '../support/cli.ts';
import { SimulatedCrash } from './crash-support.ts';
import { COHORTS, eventsOf, givenLake, givenWorld, portsOf, type World } from './support.ts';
import type { Alert, Notifier } from '../../shared/ports.ts';

const A = '2024-06-01T00:00:00.000Z';

/** Events that die (like the process) just before sending the first event of a kind. */
function dyingEvents(world: World, kind: CohortEvent['detailType']): CohortEvents {
  const inner = JsonlEvents.inState(world.state);
  let dead = false;
  return {
    publish: async (events) => {
      if (dead || events.some((e) => e.detailType === kind)) {
        dead = true;
        throw new SimulatedCrash(`killed before sending ${kind}`);
      }
      await inner.publish(events);
    },
  };
}

/** The state's catalog, dying (like the process) once it has accepted `after` definition versions. */
function dyingCatalog(world: World, after: number) {
  const catalog = stateCatalog(world.state);
  const accept = catalog.accept.bind(catalog);
  let accepted = 0;
  catalog.accept = async (entry) => {
    if (accepted >= after) throw new SimulatedCrash('killed while accepting definitions');
    accepted += 1;
    await accept(entry);
  };
  return catalog;
}

const governed = (world: World, events?: CohortEvents, catalog = stateCatalog(world.state)) => ({
  ...portsOf(world),
  governance: { catalog },
  ...(events ? { events } : {}),
});

const kinds = async (world: World, kind: string) =>
  (await eventsOf(world))
    .filter((e) => e['detail-type'] === kind)
    .map((e) => `${e.detail.cohort}@${(e.detail as { version: number }).version}`)
    .sort();

describe('announcements a crash cut off (D10) are sent by the next run, at least once', () => {
  it('Definition Accepted: a run that died after recording the catalog and before announcing it', async () => {
    const world = await givenWorld(await givenLake());
    await expect(
      runRefreshStateMachine(refreshStateMachineAsl, { as_of: A }, governed(world, dyingEvents(world, 'Definition Accepted')), {
        retryDelayMs: 0,
      }),
    ).rejects.toThrow();
    expect(await kinds(world, 'Definition Accepted')).toEqual([]);

    await runRefreshStateMachine(refreshStateMachineAsl, { as_of: A }, governed(world), { retryDelayMs: 0 });
    await runRefreshStateMachine(refreshStateMachineAsl, { as_of: A }, governed(world), { retryDelayMs: 0 });

    expect(await kinds(world, 'Definition Accepted')).toEqual(COHORTS.map((c) => `${c}@1`).sort());
  });

  it('Definition Accepted: a run that died part-way through accepting definitions', async () => {
    const world = await givenWorld(await givenLake());
    await expect(
      runRefreshStateMachine(refreshStateMachineAsl, { as_of: A }, governed(world, undefined, dyingCatalog(world, 1)), { retryDelayMs: 0 }),
    ).rejects.toThrow();

    await runRefreshStateMachine(refreshStateMachineAsl, { as_of: A }, governed(world), { retryDelayMs: 0 });
    await runRefreshStateMachine(refreshStateMachineAsl, { as_of: A }, governed(world), { retryDelayMs: 0 });

    expect(await kinds(world, 'Definition Accepted')).toEqual(COHORTS.map((c) => `${c}@1`).sort());
  });

  it('Cohort Refreshed: a run that died after the export and before its event', async () => {
    const world = await givenWorld(await givenLake());
    await expect(
      runRefreshStateMachine(refreshStateMachineAsl, { as_of: A }, governed(world, dyingEvents(world, 'Cohort Refreshed')), {
        retryDelayMs: 0,
      }),
    ).rejects.toThrow();

    await runRefreshStateMachine(refreshStateMachineAsl, { as_of: A }, governed(world), { retryDelayMs: 0 });
    await runRefreshStateMachine(refreshStateMachineAsl, { as_of: A }, governed(world), { retryDelayMs: 0 });

    expect(await kinds(world, 'Cohort Refreshed')).toEqual(COHORTS.map((c) => `${c}@1`).sort());
  });

  it('Cohort Refreshed: a version that became current but was never delivered is delivered, in order, before the next as-of', async () => {
    const world = await givenWorld(await givenLake());
    await runRefreshStateMachine(refreshStateMachineAsl, { as_of: A }, governed(world), { retryDelayMs: 0 });
    await expect(
      runRefreshStateMachine(
        refreshStateMachineAsl,
        { as_of: '2024-06-02T00:00:00.000Z' },
        governed(world, dyingEvents(world, 'Cohort Refreshed')),
        {
          retryDelayMs: 0,
        },
      ),
    ).rejects.toThrow();

    await runRefreshStateMachine(refreshStateMachineAsl, { as_of: '2024-06-03T00:00:00.000Z' }, governed(world), { retryDelayMs: 0 });

    const payers = (await eventsOf(world)).filter((e) => e['detail-type'] === 'Cohort Refreshed' && e.detail.cohort === 'payers');
    expect(payers.map((e) => [e.detail.version, e.detail.previous_version])).toEqual([
      [1, null],
      [2, 1],
      [3, 2],
    ]);
  });

  it('an alert a run was sending when it died, and the run itself, are alerted by the next run', async () => {
    const state = await tempDir();
    const sent: Alert[] = [];
    const sink: Notifier = { notify: async (alert) => void sent.push(alert) };
    const dying: Notifier = {
      notify: async () => {
        throw new SimulatedCrash('killed while appending to alerts.jsonl');
      },
    };
    const first = new LocalOutbox(state);
    await first.begin({ run_id: 'run-1', as_of: A, started_at: '2024-06-01T00:00:01.000Z' });
    const alert: Alert = {
      severity: 'warn',
      title: 'Refresh run-1: 1 with warnings',
      body: 'payers v1: 1 member',
      run_id: 'run-1',
      cohorts: ['payers'],
    };
    await expect(first.notifier(dying).notify(alert)).rejects.toBeInstanceOf(SimulatedCrash);

    const recovered = await new LocalOutbox(state).recover(sink);

    expect(recovered).toBe(2);
    expect(sent[0]).toEqual(alert);
    expect(sent[1]).toMatchObject({ severity: 'warn', title: `Refresh run-1 as of ${A} ended without finishing`, run_id: 'run-1' });
    expect(await readdir(join(state, 'outbox'))).toEqual([]);
    expect(await new LocalOutbox(state).recover(sink)).toBe(0);
  });
});

describe('a JSON-lines file torn by a crash or a full disk (D10)', () => {
  it('the next append ends the torn line first, and readers skip and report it', async () => {
    const file = join(await tempDir(), 'alerts.jsonl');
    await writeFile(file, '{"title":"first"}\n{"title":"cut sh');

    await appendJsonLines(file, [{ title: 'next' }]);

    expect(await readJsonLines(file)).toEqual({ records: [{ title: 'first' }, { title: 'next' }], torn: [2] });
  });
});
