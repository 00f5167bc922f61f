import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { FUNCTION_TIMEOUT_SECONDS, TASK_TIMEOUT_MARGIN_SECONDS } from '../../shared/workflow/step-limits.ts';
import { TILES_BUSY_RETRY } from '../../infra/workflow/refresh-definition.ts';
import { HOLDER_IN_FLIGHT_MS, IN_FLIGHT_MS, LISTING_GRACE_MS } from '../../shared/workflow/tile-lease.ts';
import type { WorkflowPlan } from '../../shared/workflow/types.ts';
import { header } from '../support/lake.ts';
import { FakeAws } from './fake-aws.ts';
import { ENVIRONMENT, EVALUATION, givenDeployment, type Handler, loadHandlers, RUN, TILES } from './handler-support.ts';

const aws = new FakeAws();
const sfn = mockClient(SFNClient);
let handlers: Record<string, Handler> = {};
const run = (step: string, event: unknown) => (handlers[step] as Handler)(event);
const LEASE = 'tiles/lease.json';
const executionArn = (name: string) => `${ENVIRONMENT.STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`;
/** A realtime tick (the run the fakes' evaluation belongs to) and a daily run started a minute later. */
const tick = { request: { trigger: 'schedule:realtime', cadence: 'realtime' }, run_id: RUN, started_at: '2026-12-05T06:00:00Z' };
const daily = { request: { trigger: 'schedule:daily', cadence: 'daily' }, run_id: 'daily-run', started_at: '2026-12-05T06:01:00Z' };

/** Step Functions running these executions; `meanwhile` runs when they are listed (another run acting in between). */
function givenRunning(runs: { run_id: string; started_at: string; request: object }[], meanwhile: () => void = () => {}): void {
  sfn.reset();
  sfn.on(ListExecutionsCommand).callsFake(() => {
    meanwhile();
    return {
      executions: runs.map((r) => ({
        executionArn: executionArn(r.run_id),
        stateMachineArn: ENVIRONMENT.STATE_MACHINE_ARN,
        name: r.run_id,
        status: 'RUNNING',
        startDate: new Date(r.started_at),
      })),
    };
  });
  for (const r of runs)
    sfn.on(DescribeExecutionCommand, { executionArn: executionArn(r.run_id) }).resolves({ input: JSON.stringify(r.request) });
}

/** The Finish of the tick's run, with nothing snapshotted or delivered. */
const finish = (plan: WorkflowPlan) =>
  run('Finish', { plan, evaluation: EVALUATION, tiles: TILES, snapshots: [], deliveries: [], started_at: tick.started_at });
const leaseHolder = () => {
  const body = aws.buckets.get('cohorts-snapshots')?.get(LEASE)?.body;
  return body === undefined ? undefined : (JSON.parse(new TextDecoder().decode(body)) as { holder: string | null }).holder;
};
/** A lease `holder` took long ago; `until`, the instant a Plan that found it gone recorded. */
const givenLease = (holder: string, until?: string) =>
  aws.put('cohorts-snapshots', LEASE, JSON.stringify({ holder, since: '2026-12-05T05:00:00Z', ...(until === undefined ? {} : { until }) }));
/** The holder's `until` the lease records. */
const holderUntil = () => (JSON.parse(aws.text('cohorts-snapshots', LEASE) as string) as { until?: string }).until;
/** The runs past ReleaseTiles the lease records, with their cohorts. */
const delivering = () => {
  const body = aws.buckets.get('cohorts-snapshots')?.get(LEASE)?.body;
  const lease =
    body === undefined ? {} : (JSON.parse(new TextDecoder().decode(body)) as { delivering?: { run: string; cohorts: string[] }[] });
  return (lease.delivering ?? []).map((d) => [d.run, d.cohorts]);
};
/** The runs the lease records as waiting for it. */
const waiting = () => {
  const body = aws.buckets.get('cohorts-snapshots')?.get(LEASE)?.body;
  const lease = body === undefined ? {} : (JSON.parse(new TextDecoder().decode(body)) as { waiting?: { run: string }[] });
  return (lease.waiting ?? []).map((w) => w.run);
};
/** ReleaseTiles of a run with its plan, as the state machine passes it (`$.plan.cohorts`). */
const releaseTiles = (plan: WorkflowPlan) => run('Finish', { release_tiles: { run_id: plan.run_id, cohorts: plan.cohorts } });
const planOf = async (event: object) => ((await run('Plan', event)) as { plan: WorkflowPlan }).plan;
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
const failedIn = (step: string, run: string) => ({
  error: { Error: 'States.TaskFailed', Cause: 'boom' },
  failed: { step, execution: executionArn(run) },
});

describe('one execution at a time over the tile store (the lease Plan takes, ReleaseTiles, Finish and AlertFailure give back)', () => {
  beforeAll(async () => {
    handlers = await loadHandlers();
  });

  beforeEach(() => {
    aws.reset();
    givenDeployment(aws);
    aws.put(
      'cohorts-definitions',
      'now_active.yaml',
      `${header('now_active').replace('daily', 'realtime')}rule:\n  event: login\n  within: 1h\n`,
    );
  });

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
    aws.put(
      'cohorts-snapshots',
      LEASE,
      JSON.stringify({
        holder: null,
        since: minutesAgo(20),
        delivering: [{ run: 'manual-run', since: minutesAgo(20), cohorts: ['now_active'], until: minutesAgo(1) }],
      }),
    );
    givenRunning([later]);
    expect((await planOf(later)).cohorts.map((c) => c.id)).toEqual(['now_active']);
    expect(leaseHolder()).toBe('later-tick');
    expect(delivering()).toEqual([]);
  });

  it('leaves deletion requests for a later run only while a run past ReleaseTiles still runs (it may be writing versions)', async () => {
    const REQUEST = 'privacy/deletion-requests/ticket-1.json';
    const request = () => aws.text('cohorts-snapshots', REQUEST);
    const erasures = () => [...(aws.buckets.get('cohorts-snapshots')?.keys() ?? [])].filter((k) => k.startsWith('privacy/erasures/'));
    // GIVEN a daily run that gave the lease back after Evaluate and still snapshots, and a deletion request
    givenRunning([daily]);
    await releaseTiles(await planOf(daily));
    givenRunning([daily, tick]);
    aws.put('cohorts-snapshots', REQUEST, '{"person_id": "bob"}');
    // WHEN a realtime tick plans, THEN it goes on but leaves the request as it was, erasing no one
    const planned = await planOf(tick);
    expect(request()).toBe('{"person_id": "bob"}');
    expect(erasures()).toEqual([]);
    // WHEN the daily run ended long ago without Finish (its entry past the grace and past the `until` a Plan that saw it
    // gone set), and the tick finished, THEN the next tick carries the request out, though other executions run (one
    // waiting for the lease, one skipped)
    await releaseTiles(planned);
    await finish(planned);
    expect(delivering()).toEqual([['daily-run', ['payers']]]);
    aws.put(
      'cohorts-snapshots',
      LEASE,
      JSON.stringify({
        holder: null,
        since: minutesAgo(20),
        delivering: [{ run: 'daily-run', since: minutesAgo(20), cohorts: ['payers'], until: minutesAgo(1) }],
      }),
    );
    const next = { ...tick, run_id: 'next-tick', started_at: '2026-12-05T06:10:00Z' };
    const waiting = { ...daily, request: { trigger: 'manual' }, run_id: 'waiting-run' };
    const skipped = { ...tick, run_id: 'skipped-tick', started_at: '2026-12-05T06:11:00Z' };
    givenRunning([next, waiting, skipped]);
    expect(await run('Plan', next)).toHaveProperty('plan');
    expect(JSON.parse(request() as string)).toHaveProperty('processed_at');
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
    const REQUEST = 'privacy/deletion-requests/ticket-1.json';
    const request = () => aws.text('cohorts-snapshots', REQUEST);
    // GIVEN a manual run of the tick's cohort past ReleaseTiles whose SnapshotEach failed (AlertFailure ran; the
    // execution then failed, so it is no longer listed), and a deletion request
    const manual = { ...daily, request: { trigger: 'manual', cohorts: ['now_active'] }, run_id: 'manual-run' };
    givenRunning([manual]);
    await releaseTiles(await planOf(manual));
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const failedAt = Date.now();
      expect(await run('AlertFailure', failedIn('SnapshotEach', 'manual-run'))).toMatchObject({ lease_released: false });
      aws.put('cohorts-snapshots', REQUEST, '{"person_id": "bob"}');
      const later = { ...tick, run_id: 'later-tick', started_at: '2026-12-05T06:05:00Z' };
      givenRunning([later]);
      // WHEN a tick plans just before an invocation Snapshot or Deliver started as the Map failed must have stopped
      // (past the listing's grace), THEN it is skipped `busy` naming the failed run, and erases no one
      const longest = Math.max(FUNCTION_TIMEOUT_SECONDS.Snapshot, FUNCTION_TIMEOUT_SECONDS.Deliver) * 1000;
      expect(longest).toBeGreaterThan(LISTING_GRACE_MS);
      vi.setSystemTime(failedAt + longest - 1000);
      expect(await run('Plan', later)).toEqual({ skipped: { reason: 'busy', cadence: 'realtime', running: 'manual-run' } });
      expect(request()).toBe('{"person_id": "bob"}');
      // WHEN it plans once they must have stopped (their timeout and the task's margin), THEN it goes on, erases and prunes the entry
      vi.setSystemTime(failedAt + longest + TASK_TIMEOUT_MARGIN_SECONDS * 1000 + 1000);
      expect((await planOf(later)).cohorts.map((c) => c.id)).toEqual(['now_active']);
      expect(JSON.parse(request() as string)).toHaveProperty('processed_at');
      expect(delivering()).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps a stopped or timed-out run’s delivering entry (no Finish, no AlertFailure) until IN_FLIGHT_MS after a Plan first saw it gone', async () => {
    const REQUEST = 'privacy/deletion-requests/ticket-1.json';
    const request = () => aws.text('cohorts-snapshots', REQUEST);
    const until = () =>
      (JSON.parse(aws.text('cohorts-snapshots', LEASE) as string) as { delivering: { until?: string }[] }).delivering[0]?.until;
    // GIVEN a manual run of the tick's cohort past ReleaseTiles, then stopped (no longer listed, neither Finish nor
    // AlertFailure ran), and a deletion request
    const manual = { ...daily, request: { trigger: 'manual', cohorts: ['now_active'] }, run_id: 'manual-run' };
    givenRunning([manual]);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      await releaseTiles(await planOf(manual));
      aws.put('cohorts-snapshots', REQUEST, '{"person_id": "bob"}');
      const later = { ...tick, run_id: 'later-tick', started_at: '2026-12-05T06:05:00Z' };
      givenRunning([later]);
      // WHEN a tick plans past the listing's grace, THEN it is skipped `busy` naming the stopped run, erases no one,
      // and the entry counts until IN_FLIGHT_MS from then
      const seenGone = Date.now() + LISTING_GRACE_MS + 1000;
      vi.setSystemTime(seenGone);
      expect(await run('Plan', later)).toEqual({ skipped: { reason: 'busy', cadence: 'realtime', running: 'manual-run' } });
      expect(request()).toBe('{"person_id": "bob"}');
      expect(until()).toBe(new Date(seenGone + IN_FLIGHT_MS).toISOString());
      // WHEN a tick plans just before then, THEN the same (the `until` first written stays)
      vi.setSystemTime(seenGone + IN_FLIGHT_MS - 1000);
      expect(await run('Plan', later)).toEqual({ skipped: { reason: 'busy', cadence: 'realtime', running: 'manual-run' } });
      expect(request()).toBe('{"person_id": "bob"}');
      expect(until()).toBe(new Date(seenGone + IN_FLIGHT_MS).toISOString());
      // WHEN it plans after then, THEN it goes on, erases and prunes the entry
      vi.setSystemTime(seenGone + IN_FLIGHT_MS + 1000);
      expect((await planOf(later)).cohorts.map((c) => c.id)).toEqual(['now_active']);
      expect(JSON.parse(request() as string)).toHaveProperty('processed_at');
      expect(delivering()).toEqual([]);
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

  it('waits for a stopped holder well within a waiting run’s retries: its grace, the new wait and a retry on either side', () => {
    const interval = TILES_BUSY_RETRY.interval.toMilliseconds();
    expect(HOLDER_IN_FLIGHT_MS).toBe(
      (Math.max(FUNCTION_TIMEOUT_SECONDS.Plan, FUNCTION_TIMEOUT_SECONDS.Tiles) + TASK_TIMEOUT_MARGIN_SECONDS) * 1000,
    );
    expect(LISTING_GRACE_MS + interval + HOLDER_IN_FLIGHT_MS + interval).toBeLessThan(interval * TILES_BUSY_RETRY.maxAttempts);
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
