import { describe, expect, it, vi } from 'vitest';
import { FUNCTION_TIMEOUT_SECONDS, TASK_TIMEOUT_MARGIN_SECONDS } from '../../shared/workflow/step-limits.ts';
import { IN_FLIGHT_MS, LISTING_GRACE_MS } from '../../shared/workflow/tile-lease.ts';
import { RUN } from './handler-support.ts';
import {
  aws,
  DELETION_REQUEST,
  daily,
  deletionRequest,
  delivering,
  expectPlansErasesAndPrunes,
  failedIn,
  finish,
  givenDeliveredLongAgo,
  givenLease,
  givenRunning,
  LEASE,
  leaseHolder,
  planOf,
  releaseTiles,
  run,
  tick,
  useLeaseWorld,
  waiting,
} from './lease-support.ts';

describe('the tile store’s lease after Evaluate: ReleaseTiles gives it back, the runs still delivering are recorded until they end', () => {
  useLeaseWorld();

  it('gives the lease back right after Evaluate (ReleaseTiles, on the Finish function): a tick that starts while a daily run snapshots goes on', async () => {
    // GIVEN a daily run that planned (holding the lease), then kept its evaluation and passed ReleaseTiles
    givenRunning([daily]);
    const planned = await planOf(daily);
    expect(leaseHolder()).toBe('daily-run');
    expect(await releaseTiles(planned)).toEqual({ released: true });
    expect(leaseHolder()).toBeNull();
    expect(delivering()).toEqual([['daily-run', ['payers']]]);
    // WHEN a realtime tick of other cohorts starts while the daily run still runs (in SnapshotEach), THEN it plans, not `busy`
    givenRunning([daily, tick]);
    expect((await planOf(tick)).cohorts.map((c) => c.id)).toEqual(['now_active']);
    expect(leaseHolder()).toBe(RUN);
    // ...and a ReleaseTiles of the daily run retried or run later gives back nothing of the tick's
    expect(await releaseTiles(planned)).toEqual({ released: false });
    expect(leaseHolder()).toBe(RUN);
    expect(delivering()).toEqual([['daily-run', ['payers']]]);
  });

  it('does not plan a cohort that a run past ReleaseTiles still snapshots: a tick is skipped `busy`, another run waits', async () => {
    // GIVEN a manual run of now_active (the tick's cohort) past ReleaseTiles, still running
    const manual = { ...daily, request: { trigger: 'manual', cohorts: ['now_active'] }, run_id: 'manual-run' };
    givenRunning([manual]);
    await releaseTiles(await planOf(manual));
    const later = { ...tick, run_id: 'later-tick', started_at: '2026-12-05T06:05:00Z' };
    const again = { ...manual, run_id: 'manual-again', started_at: '2026-12-05T06:06:00Z' };
    givenRunning([manual, later, again]);
    // WHEN a realtime tick plans, THEN it is skipped `busy` naming that run, the lease given back
    expect(await run('Plan', later)).toEqual({ skipped: { reason: 'busy', cadence: 'realtime', running: 'manual-run' } });
    expect(leaseHolder()).toBeNull();
    // WHEN another run of that cohort plans, THEN it waits (retried by the state machine), the lease given back
    await expect(run('Plan', again)).rejects.toMatchObject({ name: 'TilesBusyError', holder: 'manual-run', cohorts: ['now_active'] });
    expect(leaseHolder()).toBeNull();
    expect(delivering()).toEqual([['manual-run', ['now_active']]]);
    // ...recorded as waiting, so a tick is skipped for it even once that run has finished, and it takes the lease on retry
    expect(waiting()).toEqual(['manual-again']);
    const body = aws.text('cohorts-snapshots', LEASE) as string;
    aws.put('cohorts-snapshots', LEASE, JSON.stringify({ ...JSON.parse(body), delivering: [] }));
    givenRunning([later, again]);
    expect(await run('Plan', later)).toEqual({ skipped: { reason: 'busy', cadence: 'realtime', running: 'manual-again' } });
    expect((await planOf(again)).cohorts.map((c) => c.id)).toEqual(['now_active']);
    expect(waiting()).toEqual([]);
    givenRunning([manual, later, again]);
    // WHEN that run ended without Finish (crashed) and its `until` (set by a Plan that saw it gone) passed, THEN the
    // tick plans and the entry is pruned
    givenDeliveredLongAgo('manual-run', ['now_active']);
    givenRunning([later]);
    expect((await planOf(later)).cohorts.map((c) => c.id)).toEqual(['now_active']);
    expect(leaseHolder()).toBe('later-tick');
    expect(delivering()).toEqual([]);
  });

  it('leaves deletion requests for a later run only while a run past ReleaseTiles still runs (it may be writing versions)', async () => {
    const erasures = () => [...(aws.buckets.get('cohorts-snapshots')?.keys() ?? [])].filter((k) => k.startsWith('privacy/erasures/'));
    // GIVEN a daily run that gave the lease back after Evaluate and still snapshots, and a deletion request
    givenRunning([daily]);
    await releaseTiles(await planOf(daily));
    givenRunning([daily, tick]);
    aws.put('cohorts-snapshots', DELETION_REQUEST, '{"person_id": "bob"}');
    // WHEN a realtime tick plans, THEN it goes on but leaves the request as it was, erasing no one
    const planned = await planOf(tick);
    expect(deletionRequest()).toBe('{"person_id": "bob"}');
    expect(erasures()).toEqual([]);
    // WHEN the daily run ended long ago without Finish (its entry past the grace and past the `until` a Plan that saw it
    // gone set), and the tick finished, THEN the next tick carries the request out, though other executions run (one
    // waiting for the lease, one skipped)
    await releaseTiles(planned);
    await finish(planned);
    expect(delivering()).toEqual([['daily-run', ['payers']]]);
    givenDeliveredLongAgo('daily-run', ['payers']);
    const next = { ...tick, run_id: 'next-tick', started_at: '2026-12-05T06:10:00Z' };
    const waiting = { ...daily, request: { trigger: 'manual' }, run_id: 'waiting-run' };
    const skipped = { ...tick, run_id: 'skipped-tick', started_at: '2026-12-05T06:11:00Z' };
    givenRunning([next, waiting, skipped]);
    expect(await run('Plan', next)).toHaveProperty('plan');
    expect(JSON.parse(deletionRequest() as string)).toHaveProperty('processed_at');
    expect(erasures()).toHaveLength(1);
  });

  it('takes out only the finished run’s own delivering entry (Finish), leaving the holder and the others', async () => {
    // GIVEN the tick past ReleaseTiles, beside another run past it and a daily run holding the lease
    givenRunning([tick]);
    const planned = await planOf(tick);
    await releaseTiles(planned);
    const since = new Date().toISOString();
    const lease = JSON.parse(aws.text('cohorts-snapshots', LEASE) as string) as { delivering: object[] };
    aws.put(
      'cohorts-snapshots',
      LEASE,
      JSON.stringify({ holder: 'daily-run', since, delivering: [...lease.delivering, { run: 'other-run', since, cohorts: ['payers'] }] }),
    );
    expect(delivering()).toEqual([
      [RUN, ['now_active']],
      ['other-run', ['payers']],
    ]);
    // WHEN the tick finishes, THEN its entry alone is gone
    await finish(planned);
    expect(leaseHolder()).toBe('daily-run');
    expect(delivering()).toEqual([['other-run', ['payers']]]);
    // WHEN the other run fails after ReleaseTiles, THEN AlertFailure keeps its entry (see the next test), the lease still the daily run's
    expect(await run('AlertFailure', failedIn('DeliverEach', 'other-run'))).toMatchObject({ lease_released: false });
    expect(leaseHolder()).toBe('daily-run');
    expect(delivering()).toEqual([['other-run', ['payers']]]);
  });

  it('keeps a failed run’s delivering entry after AlertFailure until its invocations still running in the failed Map may no longer write (their timeout)', async () => {
    // GIVEN a manual run of the tick's cohort past ReleaseTiles whose SnapshotEach failed (AlertFailure ran; the
    // execution then failed, so it is no longer listed), and a deletion request
    const manual = { ...daily, request: { trigger: 'manual', cohorts: ['now_active'] }, run_id: 'manual-run' };
    givenRunning([manual]);
    await releaseTiles(await planOf(manual));
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const failedAt = Date.now();
      expect(await run('AlertFailure', failedIn('SnapshotEach', 'manual-run'))).toMatchObject({ lease_released: false });
      aws.put('cohorts-snapshots', DELETION_REQUEST, '{"person_id": "bob"}');
      const later = { ...tick, run_id: 'later-tick', started_at: '2026-12-05T06:05:00Z' };
      givenRunning([later]);
      // WHEN a tick plans just before an invocation Snapshot or Deliver started as the Map failed must have stopped
      // (past the listing's grace), THEN it is skipped `busy` naming the failed run, and erases no one
      const longest = Math.max(FUNCTION_TIMEOUT_SECONDS.Snapshot, FUNCTION_TIMEOUT_SECONDS.Deliver) * 1000;
      expect(longest).toBeGreaterThan(LISTING_GRACE_MS);
      vi.setSystemTime(failedAt + longest - 1000);
      expect(await run('Plan', later)).toEqual({ skipped: { reason: 'busy', cadence: 'realtime', running: 'manual-run' } });
      expect(deletionRequest()).toBe('{"person_id": "bob"}');
      // WHEN it plans once they must have stopped (their timeout and the task's margin), THEN it goes on, erases and prunes the entry
      vi.setSystemTime(failedAt + longest + TASK_TIMEOUT_MARGIN_SECONDS * 1000 + 1000);
      await expectPlansErasesAndPrunes(later);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps a stopped or timed-out run’s delivering entry (no Finish, no AlertFailure) until IN_FLIGHT_MS after a Plan first saw it gone', async () => {
    const until = () =>
      (JSON.parse(aws.text('cohorts-snapshots', LEASE) as string) as { delivering: { until?: string }[] }).delivering[0]?.until;
    // GIVEN a manual run of the tick's cohort past ReleaseTiles, then stopped (no longer listed, neither Finish nor
    // AlertFailure ran), and a deletion request
    const manual = { ...daily, request: { trigger: 'manual', cohorts: ['now_active'] }, run_id: 'manual-run' };
    givenRunning([manual]);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      await releaseTiles(await planOf(manual));
      aws.put('cohorts-snapshots', DELETION_REQUEST, '{"person_id": "bob"}');
      const later = { ...tick, run_id: 'later-tick', started_at: '2026-12-05T06:05:00Z' };
      givenRunning([later]);
      // WHEN a tick plans past the listing's grace, THEN it is skipped `busy` naming the stopped run, erases no one,
      // and the entry counts until IN_FLIGHT_MS from then
      const seenGone = Date.now() + LISTING_GRACE_MS + 1000;
      vi.setSystemTime(seenGone);
      expect(await run('Plan', later)).toEqual({ skipped: { reason: 'busy', cadence: 'realtime', running: 'manual-run' } });
      expect(deletionRequest()).toBe('{"person_id": "bob"}');
      expect(until()).toBe(new Date(seenGone + IN_FLIGHT_MS).toISOString());
      // WHEN a tick plans just before then, THEN the same (the `until` first written stays)
      vi.setSystemTime(seenGone + IN_FLIGHT_MS - 1000);
      expect(await run('Plan', later)).toEqual({ skipped: { reason: 'busy', cadence: 'realtime', running: 'manual-run' } });
      expect(deletionRequest()).toBe('{"person_id": "bob"}');
      expect(until()).toBe(new Date(seenGone + IN_FLIGHT_MS).toISOString());
      // WHEN it plans after then, THEN it goes on, erases and prunes the entry
      vi.setSystemTime(seenGone + IN_FLIGHT_MS + 1000);
      await expectPlansErasesAndPrunes(later);
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses a ReleaseTiles input without a run or its cohorts, giving nothing back', async () => {
    givenLease('daily-run');
    await expect(run('Finish', { release_tiles: { run_id: '', cohorts: [] } })).rejects.toMatchObject({ name: 'InvalidEventError' });
    await expect(run('Finish', { release_tiles: { run_id: 'daily-run' } })).rejects.toMatchObject({ name: 'InvalidEventError' });
    expect(leaseHolder()).toBe('daily-run');
  });
});
