import { describe, expect, it, vi } from 'vitest';
import type { WorkflowPlan } from '../../shared/workflow/types.ts';
import { RUN } from './handler-support.ts';
import {
  aws,
  daily,
  failedIn,
  finish,
  givenLease,
  givenRunning,
  LEASE,
  leaseHolder,
  minutesAgo,
  planOf,
  releaseTiles,
  run,
  tick,
  useLeaseWorld,
  waiting,
} from './lease-support.ts';

describe('the tile store’s lease: runs refused wait for it, in order, and ticks do not starve them', () => {
  useLeaseWorld();

  it('makes a daily run wait while a realtime tick holds the tiles, and lets it go on once the tick’s Finish gave them back', async () => {
    // GIVEN a realtime tick that planned (and so holds the lease), and a daily run started while it runs
    givenRunning([tick]);
    const planned = ((await run('Plan', tick)) as { plan: WorkflowPlan }).plan;
    expect(leaseHolder()).toBe(RUN);
    givenRunning([tick, daily]);
    aws.athena.resetHistory();
    // WHEN the daily run plans, THEN it waits (the state machine retries the named error), having queried nothing
    await expect(run('Plan', daily)).rejects.toMatchObject({ name: 'TilesBusyError', holder: RUN });
    expect(aws.athena.calls()).toHaveLength(0);
    expect(leaseHolder()).toBe(RUN);
    // WHEN the tick finishes, THEN the lease is free and the daily run's next attempt plans, holding it
    await finish(planned);
    expect(leaseHolder()).toBeNull();
    givenRunning([daily]);
    const next = (await run('Plan', daily)) as { plan: WorkflowPlan };
    expect(next.plan.cohorts.map((c) => c.id)).toEqual(['payers']);
    expect(leaseHolder()).toBe('daily-run');
  });

  it('does not let realtime ticks starve a waiting daily run: a tick facing the free lease while it waits is skipped `busy`, and it takes the lease at its next attempt', async () => {
    // GIVEN a tick holding the lease, WHEN a daily run plans, THEN it waits, recorded in the lease
    givenRunning([tick]);
    const planned = await planOf(tick);
    givenRunning([tick, daily]);
    await expect(run('Plan', daily)).rejects.toMatchObject({ name: 'TilesBusyError', holder: RUN });
    expect(waiting()).toEqual(['daily-run']);
    // WHEN the tick is done and the next tick plans before the daily run's retry, THEN that tick is skipped `busy`, naming it
    await releaseTiles(planned);
    await finish(planned);
    const next = { ...tick, run_id: 'next-tick', started_at: '2026-12-05T06:05:00Z' };
    givenRunning([daily, next]);
    expect(await run('Plan', next)).toEqual({ skipped: { reason: 'busy', cadence: 'realtime', running: 'daily-run' } });
    expect(leaseHolder()).toBeNull();
    // WHEN the daily run retries, THEN it takes the lease and plans, its own entry not in its way, and the entry goes
    expect((await planOf(daily)).cohorts.map((c) => c.id)).toEqual(['payers']);
    expect(leaseHolder()).toBe('daily-run');
    expect(waiting()).toEqual([]);
  });

  it('lets two waiting runs go one after the other, ticks kept out while either waits; AlertFailure of one that gave up takes its entry out', async () => {
    const manual = {
      ...daily,
      request: { trigger: 'manual', cohorts: ['payers'] },
      run_id: 'manual-run',
      started_at: '2026-12-05T06:02:00Z',
    };
    const next = { ...tick, run_id: 'next-tick', started_at: '2026-12-05T06:05:00Z' };
    // GIVEN both refused while the tick holds the lease
    givenRunning([tick]);
    const planned = await planOf(tick);
    givenRunning([tick, daily, manual]);
    await expect(run('Plan', daily)).rejects.toMatchObject({ name: 'TilesBusyError' });
    await expect(run('Plan', manual)).rejects.toMatchObject({ name: 'TilesBusyError' });
    await expect(run('Plan', daily)).rejects.toMatchObject({ name: 'TilesBusyError' });
    expect(waiting()).toEqual(['daily-run', 'manual-run']);
    await finish(planned);
    // WHEN the manual run retries first, THEN it takes the lease; the daily run waits on, and a tick is skipped
    givenRunning([daily, manual, next]);
    const manualPlan = await planOf(manual);
    expect(waiting()).toEqual(['daily-run']);
    await expect(run('Plan', daily)).rejects.toMatchObject({ name: 'TilesBusyError', holder: 'manual-run' });
    await releaseTiles(manualPlan);
    expect(await run('Plan', next)).toEqual({ skipped: { reason: 'busy', cadence: 'realtime', running: 'daily-run' } });
    // WHEN the daily run's Plan gave up (its retries spent), THEN AlertFailure takes its entry out and ticks go on
    expect(await run('AlertFailure', failedIn('Plan', 'daily-run'))).toMatchObject({ lease_released: false });
    expect(waiting()).toEqual([]);
    expect(await run('Plan', next)).toHaveProperty('plan');
  });

  it('counts a waiting run no longer running only for the grace: a tick then takes the free lease and prunes its entry', async () => {
    const next = { ...tick, run_id: 'next-tick', started_at: '2026-12-05T06:05:00Z' };
    const givenWaiting = (minutes: number) =>
      aws.put(
        'cohorts-snapshots',
        LEASE,
        JSON.stringify({ holder: null, since: minutesAgo(minutes), waiting: [{ run: 'gone-run', since: minutesAgo(minutes) }] }),
      );
    givenRunning([next]);
    givenWaiting(1);
    expect(await run('Plan', next)).toEqual({ skipped: { reason: 'busy', cadence: 'realtime', running: 'gone-run' } });
    givenWaiting(6);
    expect(await run('Plan', next)).toHaveProperty('plan');
    expect(leaseHolder()).toBe('next-tick');
    expect(waiting()).toEqual([]);
  });

  it('counts a Plan waiting for the lease as TilesBusy, logged at info, not as a failed step; any other error still is one', async () => {
    // The handlers' own Logger and Metrics (their output is off in these tests): what they are given
    const { logger, metrics } = await import('../../functions/commons/powertools.ts');
    const added = vi.spyOn(metrics, 'addMetric');
    const info = vi.spyOn(logger, 'info');
    const error = vi.spyOn(logger, 'error');
    const counted = () => added.mock.calls.map(([name, , value]) => [name, value]);
    try {
      // GIVEN a daily run holding the lease, WHEN a manual run plans, THEN it waits: TilesBusy, an info line, no StepFailed
      givenLease('daily-run');
      const manual = { ...daily, request: { trigger: 'manual' }, run_id: 'manual-run' };
      givenRunning([daily, manual]);
      await expect(run('Plan', manual)).rejects.toMatchObject({ name: 'TilesBusyError' });
      expect(counted()).toEqual([['TilesBusy', 1]]);
      expect(info).toHaveBeenCalledWith("waiting for the tile store's lease held by daily-run", { holder: 'daily-run' });
      expect(error).not.toHaveBeenCalled();
      // WHEN Plan fails otherwise (a bad event), THEN it is a failed step, logged as an error
      added.mockClear();
      await expect(run('Plan', { request: 'no request' })).rejects.toMatchObject({ name: 'InvalidEventError' });
      expect(counted()).toEqual([['StepFailed', 1]]);
      expect(error).toHaveBeenCalledWith('Plan failed', expect.objectContaining({ name: 'InvalidEventError' }));
    } finally {
      added.mockRestore();
      info.mockRestore();
      error.mockRestore();
    }
  });

  it('skips a realtime tick (busy, counted like an overlap) while another cadence’s run holds the tiles (a lease object without `delivering`, as written before it)', async () => {
    const later = { ...tick, run_id: 'later-tick', started_at: '2026-12-05T06:05:00Z' };
    givenLease('daily-run');
    givenRunning([daily, later]);

    expect(await run('Plan', later)).toEqual({ skipped: { reason: 'busy', cadence: 'realtime', running: 'daily-run' } });
    expect(aws.athena.calls()).toHaveLength(0);
    expect(leaseHolder()).toBe('daily-run');
  });
});
