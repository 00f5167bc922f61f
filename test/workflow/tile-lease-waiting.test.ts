import { describe, expect, it, vi } from 'vitest';
import { LISTING_GRACE_MS } from '../../shared/workflow/tile-lease.ts';
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
  manualRun,
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
    // WHEN the daily run (refused first) retries, THEN it takes the lease; the manual run waits on, and a tick is skipped
    givenRunning([daily, manual, next]);
    const dailyPlan = await planOf(daily);
    expect(waiting()).toEqual(['manual-run']);
    await expect(run('Plan', manual)).rejects.toMatchObject({ name: 'TilesBusyError', holder: 'daily-run' });
    await releaseTiles(dailyPlan);
    expect(await run('Plan', next)).toEqual({ skipped: { reason: 'busy', cadence: 'realtime', running: 'manual-run' } });
    // WHEN the manual run's Plan gave up (its retries spent), THEN AlertFailure takes its entry out and ticks go on
    expect(await run('AlertFailure', failedIn('Plan', 'manual-run'))).toMatchObject({ lease_released: false });
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

  it('serves waiting runs first come, first served: neither a later waiter nor a new run takes the free lease before the first', async () => {
    const manual = manualRun('manual-run', ['now_active'], '2026-12-05T06:02:00Z');
    const fresh = manualRun('fresh-run', undefined, '2026-12-05T06:10:00Z');
    // GIVEN a daily run, then a manual run, refused while the tick holds the lease, and the tick finished
    givenRunning([tick]);
    const planned = await planOf(tick);
    givenRunning([tick, daily, manual]);
    await expect(run('Plan', daily)).rejects.toMatchObject({ name: 'TilesBusyError' });
    await expect(run('Plan', manual)).rejects.toMatchObject({ name: 'TilesBusyError' });
    await finish(planned);
    expect(leaseHolder()).toBeNull();
    // WHEN a run never refused plans while the lease is free, THEN it waits behind them, recorded at the end
    givenRunning([daily, manual, fresh]);
    await expect(run('Plan', fresh)).rejects.toMatchObject({ name: 'TilesBusyError', holder: 'daily-run', ahead: true });
    expect(waiting()).toEqual(['daily-run', 'manual-run', 'fresh-run']);
    // WHEN the manual run retries before the daily run, THEN it waits its turn too, the lease still free
    await expect(run('Plan', manual)).rejects.toMatchObject({ name: 'TilesBusyError', holder: 'daily-run', ahead: true });
    expect(leaseHolder()).toBeNull();
    // WHEN the daily run retries, THEN it takes the lease; once it gave it back, the new run still waits for the manual one
    const dailyPlan = await planOf(daily);
    expect(waiting()).toEqual(['manual-run', 'fresh-run']);
    await releaseTiles(dailyPlan);
    await expect(run('Plan', fresh)).rejects.toMatchObject({ name: 'TilesBusyError', holder: 'manual-run', ahead: true });
    expect(leaseHolder()).toBeNull();
    expect((await planOf(manual)).cohorts.map((c) => c.id)).toEqual(['now_active']);
    expect(leaseHolder()).toBe('manual-run');
    expect(waiting()).toEqual(['fresh-run']);
  });

  it('lets the second waiting run take the lease once the first, gone without AlertFailure (stopped), no longer counts: the grace after its first refusal', async () => {
    const manual = manualRun('manual-run', ['payers'], '2026-12-05T06:02:00Z');
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      // GIVEN a daily run refused, then a manual run refused a minute later, and the tick finished
      givenRunning([tick]);
      const planned = await planOf(tick);
      givenRunning([tick, daily, manual]);
      const refused = Date.now();
      await expect(run('Plan', daily)).rejects.toMatchObject({ name: 'TilesBusyError' });
      vi.setSystemTime(refused + 60_000);
      await expect(run('Plan', manual)).rejects.toMatchObject({ name: 'TilesBusyError' });
      await finish(planned);
      // WHEN the daily run was stopped (no longer listed) and the manual run retries within the grace of the daily
      // run's first refusal, THEN it still waits for it (the listing may lag)
      givenRunning([manual]);
      vi.setSystemTime(refused + LISTING_GRACE_MS - 1000);
      await expect(run('Plan', manual)).rejects.toMatchObject({ name: 'TilesBusyError', holder: 'daily-run', ahead: true });
      expect(leaseHolder()).toBeNull();
      // WHEN it retries past the grace, THEN it takes the lease and the daily run's entry is pruned
      vi.setSystemTime(refused + LISTING_GRACE_MS + 1000);
      expect((await planOf(manual)).cohorts.map((c) => c.id)).toEqual(['payers']);
      expect(leaseHolder()).toBe('manual-run');
      expect(waiting()).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('re-queues a run that steps aside after planning (a cohort it planned still snapshotted) at the end, behind a run refused before it took the lease', async () => {
    // GIVEN a manual run of now_active past ReleaseTiles, still running, and the daily run (of payers) holding the lease
    const snapshotting = manualRun('snapshotting-run', ['now_active']);
    const everything = manualRun('every-run', ['payers', 'now_active'], '2026-12-05T06:03:00Z');
    const again = manualRun('payers-run', ['payers'], '2026-12-05T06:04:00Z');
    givenRunning([snapshotting]);
    await releaseTiles(await planOf(snapshotting));
    givenRunning([snapshotting, daily]);
    await planOf(daily);
    givenRunning([snapshotting, daily, everything, again]);
    // WHEN a run of every cohort, then one of payers, are refused, and the daily run gives the lease back (failed in Tiles)
    await expect(run('Plan', everything)).rejects.toMatchObject({ name: 'TilesBusyError', holder: 'daily-run' });
    await expect(run('Plan', again)).rejects.toMatchObject({ name: 'TilesBusyError', holder: 'daily-run' });
    expect(await run('AlertFailure', failedIn('Tiles', 'daily-run'))).toMatchObject({ lease_released: true });
    // THEN the run of every cohort, first, takes the lease, plans now_active too and steps aside, to the end of the queue
    await expect(run('Plan', everything)).rejects.toMatchObject({ name: 'TilesBusyError', holder: 'snapshotting-run' });
    expect(leaseHolder()).toBeNull();
    expect(waiting()).toEqual(['payers-run', 'every-run']);
    // ...so the run of payers goes first
    await expect(run('Plan', everything)).rejects.toMatchObject({ name: 'TilesBusyError', holder: 'payers-run', ahead: true });
    expect((await planOf(again)).cohorts.map((c) => c.id)).toEqual(['payers']);
    expect(waiting()).toEqual(['every-run']);
  });

  it('logs a run refused behind another waiting run at info, naming it, and counts it in TilesBusy, not as a failed step', async () => {
    const { logger, metrics } = await import('../../functions/commons/powertools.ts');
    const added = vi.spyOn(metrics, 'addMetric');
    const info = vi.spyOn(logger, 'info');
    try {
      // GIVEN a free lease the daily run waits for, WHEN a manual run plans, THEN it waits behind it, recorded after it
      const since = minutesAgo(1);
      aws.put('cohorts-snapshots', LEASE, JSON.stringify({ holder: null, since, waiting: [{ run: 'daily-run', since }] }));
      const manual = manualRun('manual-run');
      givenRunning([daily, manual]);
      await expect(run('Plan', manual)).rejects.toMatchObject({ name: 'TilesBusyError', holder: 'daily-run', ahead: true });
      expect(added.mock.calls.map(([name, , value]) => [name, value])).toEqual([['TilesBusy', 1]]);
      expect(info).toHaveBeenCalledWith("waiting for the tile store's lease behind daily-run, which waits for it too", {
        holder: 'daily-run',
      });
      expect(waiting()).toEqual(['daily-run', 'manual-run']);
    } finally {
      added.mockRestore();
      info.mockRestore();
    }
  });
});
