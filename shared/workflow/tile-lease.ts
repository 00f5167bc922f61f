import { z } from 'zod';
import { TILE_LEASE_KEY } from '../bucket-layout.ts';
import { type BlobStore, ConcurrentUpdateError, type EtaggedBlob } from '../ports.ts';
import type { RunningExecutions } from '../refresh-request.ts';
import { FUNCTION_TIMEOUT_SECONDS, TASK_TIMEOUT_MARGIN_SECONDS } from './step-limits.ts';

/**
 * One execution at a time over the tile store, in the cloud. Runs of different cadences (a realtime
 * tick and the daily refresh) may run at once, but tile builds delete a day and insert it again,
 * and Plan's erasure rewrites tile days: two executions in Tiles or Evaluate together could count
 * a day twice or read one while it is rebuilt. So Plan takes a lease, `tiles/lease.json` of the
 * snapshots bucket, by compare-and-swap, before anything touches the tiles, and ReleaseTiles gives
 * it back right after Evaluate (nothing after it touches the tiles); Finish and AlertFailure give it
 * back too, should the run still hold it. A lease whose holder no longer runs (it ended, crashed,
 * timed out or was stopped without giving it back) is taken over, once it is older than {@link LISTING_GRACE_MS}:
 * Step Functions lists executions eventually consistently, so a holder that has just started may not
 * be listed yet. Not at once, though: the first Plan that finds it gone records the holder's
 * `until`, {@link HOLDER_IN_FLIGHT_MS} from then, and is refused as if it were held until then, as
 * an execution stopped or timed out in Plan or Tiles leaves that step's Lambda invocation running,
 * writing tile days, up to its function's timeout. Runs that end give the lease back (ReleaseTiles,
 * Finish, AlertFailure, after their step's invocation has ended), so they cost nothing more.
 * Locally the state folder's run lock already serializes runs.
 *
 * The lease also records the runs past ReleaseTiles that have not finished (`delivering`, with the
 * cohorts each one's plan snapshots): they write versions and exports, so Plan carries out
 * deletion requests only while none of them still runs, and a run does not plan a cohort one of
 * them is about to publish a version of. ReleaseTiles moves the holder there; Finish takes the
 * run's own entry out. An entry whose run no longer runs (past the same grace as the holder) and
 * that has no `until` yet gets one, {@link IN_FLIGHT_MS} from the Plan that first sees it gone, and
 * counts until then: a run stopped or timed out never reaches Finish or AlertFailure, and its
 * Snapshot and Deliver invocations still running go on writing. An entry past its `until` is
 * pruned by the next Plan that takes the lease.
 *
 * A failed run's entry is not taken out but kept until {@link IN_FLIGHT_MS} after AlertFailure: a
 * Map that fails stops starting iterations, but Lambda invocations already running in its other
 * iterations go on, up to their function's timeout, writing versions and exports after the
 * execution has failed (and so is no longer listed as running).
 *
 * And it records the runs other than realtime ticks that found the lease held, or a cohort they
 * planned still snapshotted (`waiting`): Plan retries them every 30 s, while realtime ticks start
 * every few minutes and would take the lease the moment it is free, so a waiting run could lose
 * every race until it fails. While a waiting run still counts (as a delivering one), a realtime tick
 * does not take a free lease but is skipped; the waiting run takes it at its next attempt, which
 * takes its entry out (so do Finish and AlertFailure).
 *
 * Among waiting runs, first come, first served: a run takes a free lease (or one it may take over)
 * only when no other waiting entry that still counts was recorded before its own, and a run not yet
 * waiting that finds one is refused and recorded at the end, so a new daily or manual run never
 * overtakes one that has waited for minutes. A Plan that steps aside after planning (a cohort it
 * planned still snapshotted) is re-queued at the end, behind every run waiting then.
 * No deadlock: a waiting run waits only for the holder and for entries recorded before its own (a
 * strict order, so no circle and never itself); the holder waits for nothing in the queue (a run that
 * steps aside waits for delivering runs, which never take the lease again and end within their
 * timeouts, or {@link IN_FLIGHT_MS} after); an entry whose run no longer runs stops counting once past
 * the listing's grace from its first refusal, so a dead waiter holds the queue up for at most that.
 * The worst wait is the sum of the holds ahead: for the first waiter, a holder stopped in Tiles
 * ({@link LISTING_GRACE_MS}, {@link HOLDER_IN_FLIGHT_MS} and a retry on either side, 21.5 minutes,
 * within TILES_BUSY_RETRY's 30); for the second, twice that when the first also stops in Tiles once it
 * holds the lease (43 minutes): TILES_BUSY_RETRY does not cover it, and that run fails with an alert
 * (the next scheduled run refreshes its cohorts). A live holder's Tiles and Evaluate add their own
 * time for every run ahead, as they did for a single waiter before.
 */

/**
 * How old a lease (or a delivering entry) must be before a run missing from the running executions
 * counts as gone. ListExecutions "may not reflect very recent updates": without this, a run could
 * take over the lease of one that took it a moment ago and is not listed yet. A few minutes is far
 * beyond the listing's lag and costs only that much delay after a crash.
 */
export const LISTING_GRACE_MS = 5 * 60_000;

/**
 * How long after AlertFailure a failed run's delivering entry still counts (or after a Plan first
 * saw a stopped or timed-out run gone): an invocation of Snapshot or Deliver started just before
 * the Map failed (or the execution stopped) may run for its function's whole timeout
 * (then Lambda stops it), plus the task's margin for clocks that disagree a little.
 */
export const IN_FLIGHT_MS =
  (Math.max(FUNCTION_TIMEOUT_SECONDS.Snapshot, FUNCTION_TIMEOUT_SECONDS.Deliver) + TASK_TIMEOUT_MARGIN_SECONDS) * 1000;

/**
 * How long after a Plan first found the holder gone (stopped or timed out, without giving the lease
 * back) it still counts: the invocation of Plan or Tiles it was running (the steps that write tiles
 * while it holds the lease, one at a time) may run for its function's whole timeout, plus the task's
 * margin. Well within the 30 minutes a waiting run retries (TILES_BUSY_RETRY) after the listing's grace,
 * for the first waiting run (not for the second: see {@link TileLease}).
 */
export const HOLDER_IN_FLIGHT_MS =
  (Math.max(FUNCTION_TIMEOUT_SECONDS.Plan, FUNCTION_TIMEOUT_SECONDS.Tiles) + TASK_TIMEOUT_MARGIN_SECONDS) * 1000;

/**
 * A run past ReleaseTiles that has not finished: since when, and the cohorts its plan snapshots;
 * `until`, for a failed run (or one seen gone, stopped or timed out), when its last invocations
 * still running must have stopped.
 */
const deliveringSchema = z.object({ run: z.string(), since: z.string(), cohorts: z.array(z.string()), until: z.string().optional() });

/** A run (other than a realtime tick) refused the lease, retried by the state machine, since when. */
const waitingSchema = z.object({ run: z.string(), since: z.string() });

/** A run still writing versions and exports after giving the tiles back (see {@link TileLease}). */
export type DeliveringRun = z.infer<typeof deliveringSchema>;

/** A run waiting for the lease (see {@link TileLease}). */
export type WaitingRun = z.infer<typeof waitingSchema>;

/**
 * The lease object: which execution holds the tiles and since when (`holder: null` once given back),
 * `until`, once a Plan found the holder gone, when its last invocation must have stopped; the runs
 * past ReleaseTiles and the runs waiting for it (each absent in objects written before it was
 * recorded, and when empty).
 */
const leaseSchema = z.object({
  holder: z.string().nullable(),
  since: z.string(),
  until: z.string().optional(),
  delivering: z.array(deliveringSchema).optional(),
  waiting: z.array(waitingSchema).optional(),
});

type Lease = z.infer<typeof leaseSchema>;

/** What {@link TileLease.take} found. */
export type LeaseTaken =
  /**
   * This run holds the lease; `took_over` names a holder that no longer ran; `delivering`, the
   * other runs past ReleaseTiles that still run (none can join them while this run holds the lease).
   */
  | { readonly taken: true; readonly took_over?: string; readonly delivering: readonly DeliveringRun[] }
  /**
   * Another running execution holds it; or it is free (or may be taken over) but `holder` waits for it
   * (`waiting`): for a realtime tick, any waiting run; for a run that waits, one recorded before it.
   */
  | { readonly taken: false; readonly holder: string; readonly waiting?: true };

/** Compare-and-swap attempts before a contended lease is left to the step's retry (ConcurrentUpdateError). */
const ATTEMPTS = 5;

/** No lease: none written yet, or one that cannot be read (taken over). */
const FREE: Lease = { holder: null, since: '' };

/** The lease as written: empty lists left out, and the holder's `until` once there is no holder. */
function written({ until, delivering, waiting, ...lease }: Lease): Lease {
  return {
    ...lease,
    ...(lease.holder !== null && until !== undefined ? { until } : {}),
    ...(delivering?.length ? { delivering } : {}),
    ...(waiting?.length ? { waiting } : {}),
  };
}

/** Whether two leases are written alike. */
function same(a: Lease, b: Lease): boolean {
  return JSON.stringify(written(a)) === JSON.stringify(written(b));
}

/** The lease the object holds. */
function leaseOf(seen: EtaggedBlob | undefined): Lease {
  if (!seen) return FREE;
  try {
    const parsed = leaseSchema.safeParse(JSON.parse(new TextDecoder().decode(seen.body)));
    return parsed.success ? parsed.data : FREE;
  } catch {
    return FREE;
  }
}

/** What a compare-and-swap step decided: its answer, and the lease to write (none: nothing changes). */
interface Decision<T> {
  readonly result: T;
  readonly next?: Lease;
}

/** The lease over the tile store, in a blob store (the snapshots bucket, beside the tiles). */
export class TileLease {
  constructor(
    private readonly blobs: BlobStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Takes the lease for `runId`: when it is free, already this run's (a retried Plan), or held by
   * an execution that is not among the running ones, for longer than the listing's grace and past
   * its `until` (the first Plan that finds it gone sets it and is refused); for a realtime tick
   * (`waits` false) only while no other run waits for it, for a run that `waits` only while no other
   * run waiting was recorded before it (first come, first served). Taking it takes the run's
   * own waiting entry out, prunes the entries of runs that no longer run and gives a delivering
   * entry seen gone for the first time its `until` (so does a retried Plan). Refused, a run that
   * `waits` is recorded as waiting (once: its first refusal's instant stays). A lost
   * compare-and-swap re-reads and decides again.
   */
  take(runId: string, executions: RunningExecutions, waits: boolean): Promise<LeaseTaken> {
    return this.swap('taken', async (lease): Promise<Decision<LeaseTaken>> => {
      const { holder } = lease;
      if (holder !== null && holder !== runId) {
        if (await this.counts({ run: holder, since: lease.since, until: lease.until }, executions)) {
          return this.refused(lease, runId, waits, { taken: false, holder });
        }
        if (lease.until === undefined) {
          const until = this.inFlightUntil(HOLDER_IN_FLIGHT_MS);
          return this.refused({ ...lease, until }, runId, waits, { taken: false, holder }, true);
        }
      }
      if (holder === runId) {
        const delivering = await this.stillDelivering(lease.delivering, runId, executions);
        // Running after all (a Plan saw it gone): its `until` no longer applies.
        const next = { ...lease, until: undefined, delivering };
        return { result: { taken: true, delivering }, ...(same(next, lease) ? {} : { next }) };
      }
      const waiting = await this.counting(lease.waiting, runId, executions);
      const ahead = waits ? await this.ahead(lease.waiting, runId, executions) : waiting[0];
      if (ahead !== undefined) return this.refused(lease, runId, waits, { taken: false, holder: ahead.run, waiting: true });
      const delivering = await this.stillDelivering(lease.delivering, runId, executions);
      return {
        result: holder === null ? { taken: true, delivering } : { taken: true, took_over: holder, delivering },
        next: { holder: runId, since: this.now().toISOString(), delivering, waiting },
      };
    });
  }

  /**
   * Plan after planning, when a cohort it planned is one a delivering run still snapshots: gives
   * the lease back (while `runId` holds it) and records the run as waiting (a run that `waits`) at
   * the end of the queue, so realtime ticks do not take the lease before it again.
   */
  stepAside(runId: string, waits: boolean): Promise<void> {
    return this.swap('given back', async (lease): Promise<Decision<void>> => {
      const given = lease.holder === runId ? { ...lease, holder: null, since: this.now().toISOString() } : lease;
      return this.refused(given, runId, waits, undefined, given !== lease);
    });
  }

  /**
   * ReleaseTiles: gives the lease back when `runId` still holds it (never another run's) and
   * records the run as delivering `cohorts` until it ends; whether it gave it back.
   */
  release(runId: string, cohorts: readonly string[]): Promise<boolean> {
    return this.swap('given back', async (lease): Promise<Decision<boolean>> => {
      if (lease.holder !== runId) return { result: false };
      const since = this.now().toISOString();
      const others = (lease.delivering ?? []).filter((d) => d.run !== runId);
      return {
        result: true,
        next: { ...lease, holder: null, since, delivering: [...others, { run: runId, since, cohorts: [...cohorts] }] },
      };
    });
  }

  /**
   * Finish: the run is over. Gives the lease back when `runId` still holds it (ReleaseTiles failed,
   * or the run failed before it) and takes its own delivering and waiting entries out, never
   * another run's; whether it gave the lease back.
   */
  end(runId: string): Promise<boolean> {
    return this.over(runId, () => []);
  }

  /**
   * AlertFailure: as {@link end}, but the run's delivering entry stays, counting until
   * {@link IN_FLIGHT_MS} from now (its invocations still running may write until then); the next
   * Plan that takes the lease after that prunes it.
   */
  failed(runId: string): Promise<boolean> {
    const until = this.inFlightUntil();
    return this.over(runId, (own) => own.map((d) => ({ ...d, until })));
  }

  /** When invocations running now must have stopped: `ms` ({@link IN_FLIGHT_MS}) from now. */
  private inFlightUntil(ms = IN_FLIGHT_MS): string {
    return new Date(this.now().getTime() + ms).toISOString();
  }

  /** The lease given back while `runId` holds it, its waiting entry out and its delivering entry `kept`; whether given back. */
  private over(runId: string, kept: (own: DeliveringRun[]) => DeliveringRun[]): Promise<boolean> {
    return this.swap('given back', async (lease): Promise<Decision<boolean>> => {
      const held = lease.holder === runId;
      const delivering = lease.delivering ?? [];
      const own = delivering.filter((d) => d.run === runId);
      const next: Lease = {
        ...lease,
        ...(held ? { holder: null, since: this.now().toISOString() } : {}),
        delivering: [...delivering.filter((d) => d.run !== runId), ...kept(own)],
        waiting: (lease.waiting ?? []).filter((w) => w.run !== runId),
      };
      return same(next, lease) ? { result: false } : { result: held, next };
    });
  }

  /** A refusal (`result`), recording `runId` as waiting when it `waits` and is not yet; `changed`: the lease is written anyway. */
  private refused<T>(lease: Lease, runId: string, waits: boolean, result: T, changed = false): Decision<T> {
    const waiting = lease.waiting ?? [];
    if (!waits || waiting.some((w) => w.run === runId)) return changed ? { result, next: lease } : { result };
    return { result, next: { ...lease, waiting: [...waiting, { run: runId, since: this.now().toISOString() }] } };
  }

  /**
   * The first waiting entry still counting that is ahead of `runId`'s own: recorded before it, or, when the run
   * does not wait yet, any (it queues at the end). The list is in the order of first refusals (each appended by
   * compare-and-swap), so its order, not the writers' clocks, says who is older.
   */
  private async ahead(
    entries: readonly WaitingRun[] | undefined,
    runId: string,
    executions: RunningExecutions,
  ): Promise<WaitingRun | undefined> {
    const all = entries ?? [];
    const own = all.findIndex((w) => w.run === runId);
    return (await this.counting(own === -1 ? all : all.slice(0, own), runId, executions))[0];
  }

  /** The entries of runs other than `runId` that still count, and what `gone` keeps of the others. */
  private async counting<E extends WaitingRun & { until?: string }>(
    entries: readonly E[] | undefined,
    runId: string,
    executions: RunningExecutions,
    gone: (entry: E) => E | undefined = () => undefined,
  ): Promise<E[]> {
    const kept: E[] = [];
    for (const entry of entries ?? []) {
      if (entry.run === runId) continue;
      const still = (await this.counts(entry, executions)) ? entry : gone(entry);
      if (still !== undefined) kept.push(still);
    }
    return kept;
  }

  /**
   * The delivering entries of runs other than `runId` that still count; one whose run is seen gone
   * for the first time (no `until` yet: stopped or timed out, it reached neither Finish nor
   * AlertFailure) is kept, counting until {@link IN_FLIGHT_MS} from now.
   */
  private stillDelivering(
    entries: readonly DeliveringRun[] | undefined,
    runId: string,
    executions: RunningExecutions,
  ): Promise<DeliveringRun[]> {
    const until = this.inFlightUntil();
    return this.counting(entries, runId, executions, (entry) => (entry.until === undefined ? { ...entry, until } : undefined));
  }

  /**
   * Whether an entry (or the holder) still counts: before its `until`, recorded within the
   * listing's grace, or its run running.
   */
  private async counts(entry: { run: string; since: string; until?: string }, executions: RunningExecutions): Promise<boolean> {
    // An unreadable instant counts as old: the running executions alone decide.
    const now = this.now().getTime();
    if (entry.until !== undefined && now < Date.parse(entry.until)) return true;
    const sinceMs = Date.parse(entry.since);
    if (!Number.isNaN(sinceMs) && now - sinceMs < LISTING_GRACE_MS) return true;
    return (await executions.running()).some((e) => e.name === entry.run);
  }

  /** Reads the lease, decides, and writes what was decided by compare-and-swap; a lost race reads and decides again. */
  private async swap<T>(doing: string, decide: (lease: Lease) => Promise<Decision<T>>): Promise<T> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const seen = await this.blobs.getWithEtag(TILE_LEASE_KEY);
      const { result, next } = await decide(leaseOf(seen));
      if (next === undefined) return result;
      try {
        await this.blobs.putIfUnchanged(TILE_LEASE_KEY, `${JSON.stringify(written(next))}\n`, seen?.etag);
        return result;
      } catch (error) {
        if (!(error instanceof ConcurrentUpdateError)) throw error;
      }
    }
    throw new ConcurrentUpdateError(`the tile store's lease (${this.blobs.locate(TILE_LEASE_KEY)}) kept changing while ${doing}`);
  }
}
