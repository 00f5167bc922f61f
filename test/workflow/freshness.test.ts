import { describe, expect, it } from 'vitest';
import { runRefreshStateMachine } from '../../shared/workflow/local-runner.ts';
import { refreshStateMachineAsl } from '../../infra/synthesized-definition.ts';
import { freshnessNote } from '../../shared/report/freshness-cell.ts';
import type { Manifest } from '../../shared/store/manifest.ts';
import { WARN_ONLY_SOURCE_CHECKS } from '../support/config.ts';
import { alertsOf, givenLake, givenWorld, portsOf } from './support.ts';

const A = '2024-06-01T00:00:00.000Z';
/** The tiny lake's newest event before A: bob's login. */
const NEWEST = '2024-05-31T10:00:00.000Z';

describe('freshness of a version', () => {
  it('is recorded in the manifest: the newest event read and as-of minus it, with a passing staleness check', async () => {
    const world = await givenWorld(await givenLake());

    await runRefreshStateMachine(refreshStateMachineAsl, { as_of: A }, portsOf(world));

    const manifest = (await world.store.manifest('active_users', 1)) as Manifest;
    expect(manifest.freshness).toEqual({ newest_event: NEWEST, staleness_seconds: 14 * 3600 });
    expect(manifest.checks.find((c) => c.name === 'staleness')).toEqual({
      name: 'staleness',
      status: 'pass',
      observed: 14,
      threshold: 26,
      message: `newest event 14 hours before as-of (${NEWEST}), within the bound of 26 hours for a daily cohort`,
    });
    expect(String(freshnessNote(manifest))).toContain('data 14 h old');
  });

  it('past its cadence bound warns: the version is published and the run alert names it', async () => {
    const world = await givenWorld(await givenLake());
    const config = {
      ...WARN_ONLY_SOURCE_CHECKS,
      checks: { ...WARN_ONLY_SOURCE_CHECKS.checks, staleness: { ...WARN_ONLY_SOURCE_CHECKS.checks.staleness, daily: 10 } },
    };

    const { summary } = await runRefreshStateMachine(refreshStateMachineAsl, { as_of: A }, { ...portsOf(world), config });

    const active = summary.cohorts.find((c) => c.cohort === 'active_users');
    expect(active).toMatchObject({ status: 'published' });
    expect(active?.checks.find((c) => c.name === 'staleness')).toMatchObject({ status: 'warn', observed: 14, threshold: 10 });
    const alert = (await alertsOf(world)).at(-1) as { severity: string; body: string };
    expect(alert.severity).toBe('warn');
    expect(alert.body).toContain(
      `warn staleness: newest event 14 hours before as-of (${NEWEST}), past the bound of 10 hours for a daily cohort`,
    );
    const manifest = (await world.store.manifest('active_users', 1)) as Manifest;
    expect(String(freshnessNote(manifest))).toMatch(/data 14 h old.*stale/);
  });
});
