import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it, vi } from 'vitest';
import { TILES_BUSY_RETRY } from '../../infra/workflow/refresh-definition.ts';
import { FUNCTION_TIMEOUT_SECONDS, TASK_TIMEOUT_MARGIN_SECONDS } from '../../shared/workflow/step-limits.ts';
import { HOLDER_IN_FLIGHT_MS, LISTING_GRACE_MS } from '../../shared/workflow/tile-lease.ts';
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
  holderUntil,
  minutesAgo,
  planOf,
  run,
  tick,
  useLeaseWorld,
  waiting,
} from './lease-support.ts';

describe('the tile store’s lease holder: taken by compare-and-swap, taken over once gone, given back only by itself', () => {
  useLeaseWorld();

  it('takes over a lease whose holder no longer runs (ended, crashed, timed out or stopped) once past the `until` a Plan that found it gone set', async () => {
    givenLease('crashed-run', minutesAgo(1));
    givenRunning([daily]);

    expect(await run('Plan', daily)).toHaveProperty('plan');
    expect(leaseHolder()).toBe('daily-run');
    expect(holderUntil()).toBeUndefined();
  });

  it('does not take over the lease of a holder stopped in Plan or Tiles (no ReleaseTiles, Finish or AlertFailure) until HOLDER_IN_FLIGHT_MS after a Plan first found it gone', async () => {
    const later = { ...tick, run_id: 'later-tick', started_at: '2026-12-05T06:05:00Z' };
    const manual = { ...daily, request: { trigger: 'manual' }, run_id: 'manual-run', started_at: '2026-12-05T06:06:00Z' };
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      // GIVEN a daily run that planned (holding the lease), then stopped during Tiles: no longer listed
      givenRunning([daily]);
      await planOf(daily);
      givenRunning([later, manual]);
      // WHEN a tick plans past the listing's grace, THEN it is skipped `busy` naming the stopped run, which keeps the
      // lease, counting until HOLDER_IN_FLIGHT_MS from then (its Tiles invocation may still write tile days)
      const seenGone = Date.now() + LISTING_GRACE_MS + 1000;
      vi.setSystemTime(seenGone);
      expect(await run('Plan', later)).toEqual({ skipped: { reason: 'busy', cadence: 'realtime', running: 'daily-run' } });
      expect(leaseHolder()).toBe('daily-run');
      expect(holderUntil()).toBe(new Date(seenGone + HOLDER_IN_FLIGHT_MS).toISOString());
      // ...and a manual run waits (recorded as waiting)
      await expect(run('Plan', manual)).rejects.toMatchObject({ name: 'TilesBusyError', holder: 'daily-run' });
      expect(waiting()).toEqual(['manual-run']);
      // WHEN they plan just before then, THEN the same, the `until` first written kept
      vi.setSystemTime(seenGone + HOLDER_IN_FLIGHT_MS - 1000);
      expect(await run('Plan', later)).toEqual({ skipped: { reason: 'busy', cadence: 'realtime', running: 'daily-run' } });
      await expect(run('Plan', manual)).rejects.toMatchObject({ name: 'TilesBusyError', holder: 'daily-run' });
      expect(holderUntil()).toBe(new Date(seenGone + HOLDER_IN_FLIGHT_MS).toISOString());
      // WHEN the manual run retries after then, THEN it takes the lease over and plans; the lease holds no `until`
      vi.setSystemTime(seenGone + HOLDER_IN_FLIGHT_MS + 1000);
      expect(await run('Plan', manual)).toHaveProperty('plan');
      expect(leaseHolder()).toBe('manual-run');
      expect(holderUntil()).toBeUndefined();
      expect(waiting()).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('waits for a stopped holder well within the first waiting run’s retries (its grace, the new wait and a retry on either side), not within the second’s behind a first that stops holding it too', () => {
    const interval = TILES_BUSY_RETRY.interval.toMilliseconds();
    expect(HOLDER_IN_FLIGHT_MS).toBe(
      (Math.max(FUNCTION_TIMEOUT_SECONDS.Plan, FUNCTION_TIMEOUT_SECONDS.Tiles) + TASK_TIMEOUT_MARGIN_SECONDS) * 1000,
    );
    const stoppedHold = LISTING_GRACE_MS + interval + HOLDER_IN_FLIGHT_MS + interval;
    const retries = interval * TILES_BUSY_RETRY.maxAttempts;
    expect(stoppedHold).toBeLessThan(retries);
    // First come, first served: the second waits for both holds, the 43 minutes tile-lease.ts and the README state
    expect(2 * stoppedHold).toBe(43 * 60_000);
    expect(2 * stoppedHold).toBeGreaterThan(retries);
  });

  it('does not take over a lease taken moments ago by an execution the listing does not show yet (eventually consistent)', async () => {
    const takenAgo = (ms: number) =>
      aws.put('cohorts-snapshots', LEASE, JSON.stringify({ holder: 'just-started', since: new Date(Date.now() - ms).toISOString() }));
    givenRunning([daily]);
    // WHEN the holder took it a minute ago but ListExecutions does not list it yet, THEN this run waits
    takenAgo(60_000);
    await expect(run('Plan', daily)).rejects.toMatchObject({ name: 'TilesBusyError', holder: 'just-started' });
    expect(leaseHolder()).toBe('just-started');
    // WHEN it is still not listed after the grace, THEN it is gone: the lease is taken over (once past the `until` of
    // its invocation still running, the next test)
    takenAgo(LISTING_GRACE_MS + 60_000);
    await expect(run('Plan', daily)).rejects.toMatchObject({ name: 'TilesBusyError', holder: 'just-started' });
    expect(holderUntil()).toBeDefined();
    givenLease('just-started', minutesAgo(1));
    expect(await run('Plan', daily)).toHaveProperty('plan');
    expect(leaseHolder()).toBe('daily-run');
  });

  it('re-reads after a lost compare-and-swap: a run that took the stale lease first keeps it, and this one waits', async () => {
    // GIVEN a stale lease, which a rival run takes over while this one lists the running executions
    givenLease('crashed-run', minutesAgo(1));
    const rival = { ...daily, request: { trigger: 'manual' }, run_id: 'rival-run' };
    givenRunning([daily, rival], () => {
      if (leaseHolder() === 'crashed-run') givenLease('rival-run');
    });
    // WHEN / THEN: its conditional write fails, it reads again and finds the rival running
    await expect(run('Plan', daily)).rejects.toMatchObject({ name: 'TilesBusyError', holder: 'rival-run' });
    expect(leaseHolder()).toBe('rival-run');
  });

  it('lets a retried Plan of the holder take its own lease again, writing nothing', async () => {
    givenRunning([daily]);
    await run('Plan', daily);
    const leaseCalls = (command: typeof GetObjectCommand | typeof PutObjectCommand) =>
      aws.s3.commandCalls(command).filter((c) => c.args[0].input.Key === LEASE);
    expect(leaseCalls(PutObjectCommand)).toHaveLength(1);
    aws.s3.resetHistory();

    expect(await run('Plan', daily)).toHaveProperty('plan');
    expect(leaseCalls(GetObjectCommand)).toHaveLength(1);
    expect(leaseCalls(PutObjectCommand)).toHaveLength(0);
    expect(leaseHolder()).toBe('daily-run');
  });

  it('gives the lease back in Finish and AlertFailure only while the run holds it, never another run’s', async () => {
    // Finish of a run that no longer holds it (taken over meanwhile) leaves the new holder's lease alone
    givenRunning([tick]);
    const planned = ((await run('Plan', { ...tick, request: { trigger: 'manual' } })) as { plan: WorkflowPlan }).plan;
    givenLease('daily-run');
    await finish(planned);
    expect(leaseHolder()).toBe('daily-run');
    // AlertFailure of another run leaves it alone; of the holder (failed in Plan, so without a plan) gives it back
    expect(await run('AlertFailure', failedIn('Plan', RUN))).toMatchObject({ lease_released: false });
    expect(leaseHolder()).toBe('daily-run');
    expect(await run('AlertFailure', failedIn('Plan', 'daily-run'))).toMatchObject({ lease_released: true });
    expect(leaseHolder()).toBeNull();
  });
});
