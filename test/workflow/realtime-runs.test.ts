import { describe, expect, it } from 'vitest';
import { runRefreshSteps } from '../../shared/workflow/run-steps.ts';
import { tempDir } from '../support/cli.ts';
import { header, login, writeDefinitions, writeLake } from '../support/lake.ts';
import { givenWorld, portsOf } from './support.ts';

/** A mid-day instant: a realtime run is as of its own moment, never rounded to an hour or a day. */
const AS_OF = '2024-06-10T12:34:56.789Z';

/** Logins over six weeks, some of them today; `now_active` is realtime, `monthly_active` daily. */
async function givenRealtimeLake(): Promise<{ lake: string; definitions: string }> {
  const root = await tempDir('cohorts-realtime-');
  const lake = `${root}/lake`;
  const definitions = `${root}/definitions`;
  await writeLake(lake, [
    login('e1', 'ann', '2024-05-01T10:00:00Z'),
    login('e2', 'bob', '2024-05-20T10:00:00Z'),
    login('e3', 'cid', '2024-06-09T23:50:00Z'),
    login('e4', 'dan', '2024-06-10T12:00:00Z'),
    login('e5', 'eve', '2024-06-10T12:34:56.788Z'),
    login('e6', 'fay', '2024-06-10T12:34:56.789Z'),
  ]);
  await writeDefinitions(definitions, {
    'now_active.yaml': `${header('now_active').replace('cadence: daily', 'cadence: realtime')}rule:\n  event: login\n  within: 1h\n`,
    'monthly_active.yaml': `${header('monthly_active')}rule:\n  event: login\n  within: 30d\n`,
  });
  return { lake, definitions };
}

describe('a realtime run', () => {
  it('is as of its own moment, computes from tiles whatever the default mode, and reads only the raw partitions near today', async () => {
    // GIVEN a world over the lake
    const world = await givenWorld(await givenRealtimeLake());
    // WHEN the realtime schedule's input starts a run (no mode named)
    const run = await runRefreshSteps({ trigger: 'schedule:realtime', cadence: 'realtime', as_of: AS_OF }, portsOf(world));
    // THEN only the realtime cohort is refreshed, from tiles, as of the unrounded instant
    expect(run.summary.cohorts.map((c) => c.cohort)).toEqual(['now_active']);
    expect(run.summary.tiles.mode).toBe('tiles');
    const manifest = await world.store.manifest('now_active', 1);
    expect(manifest?.as_of).toBe(AS_OF);
    // AND the members are those of the last hour before the instant (fay's event at the instant is not before it)
    expect(await world.store.members('now_active', 1)).toEqual(['dan', 'eve']);
    // AND its lineage shows tiles for every whole day and raw events only of today and of the partial
    // first day of each sliding window (the KPIs' 14d and 30d), each with the SPEC's day of slack: never the history
    expect(manifest?.lineage.tiles).toMatchObject({ mode: 'tiles', days: { to: '2024-06-10' }, raw_measures: [] });
    expect(manifest?.lineage.tiles?.raw_partitions).toEqual([
      ...['2024-05-10', '2024-05-11', '2024-05-12'],
      ...['2024-05-26', '2024-05-27', '2024-05-28'],
      ...['2024-06-09', '2024-06-10', '2024-06-11'],
    ]);
  });

  it('keeps the slower cadences on the default mode, and a named mode wins over realtime', async () => {
    const world = await givenWorld(await givenRealtimeLake());
    const daily = await runRefreshSteps({ trigger: 'schedule:daily', cadence: 'daily', as_of: AS_OF }, portsOf(world));
    expect(daily.summary.tiles.mode).toBe('full');
    expect(await world.store.members('monthly_active', 1)).toEqual(['bob', 'cid', 'dan', 'eve']);
    const verified = await runRefreshSteps({ cadence: 'realtime', as_of: AS_OF, mode: 'verify' }, portsOf(world));
    expect(verified.summary.tiles.mode).toBe('verify');
  });
});
