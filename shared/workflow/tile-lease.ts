import { z } from 'zod';
import { TILE_LEASE_KEY } from '../bucket-layout.ts';
import { type BlobStore, ConcurrentUpdateError, type EtaggedBlob } from '../ports.ts';
import type { RunningExecutions } from '../refresh-request.ts';

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
 * be listed yet. Locally the state folder's run lock already serializes runs.
 *
 * The lease also records the runs past ReleaseTiles that have not finished (`delivering`, with the
 * cohorts each one's plan snapshots): they write versions and exports, so Plan carries out
 * deletion requests only while none of them still runs, and a run does not plan a cohort one of
 * them is about to publish a version of. ReleaseTiles moves the holder there; Finish and
 * AlertFailure take the run's own entry out. An entry whose run no longer runs counts no more
 * after the same grace as the holder, and is pruned by the next Plan that takes the lease.
 */

/**
 * How old a lease (or a delivering entry) must be before a run missing from the running executions
 * counts as gone. ListExecutions "may not reflect very recent updates": without this, a run could
 * take over the lease of one that took it a moment ago and is not listed yet. A few minutes is far
 * beyond the listing's lag and costs only that much delay after a crash.
 */
export const LISTING_GRACE_MS = 5 * 60_000;

/** A run past ReleaseTiles that has not finished: since when, and the cohorts its plan snapshots. */
const deliveringSchema = z.object({ run: z.string(), since: z.string(), cohorts: z.array(z.string()) });

/** A run still writing versions and exports after giving the tiles back (see {@link TileLease}). */
export type DeliveringRun = z.infer<typeof deliveringSchema>;

/**
 * The lease object: which execution holds the tiles and since when (`holder: null` once given back),
 * and the runs past ReleaseTiles (absent in objects written before they were recorded).
 */
const leaseSchema = z.object({
  holder: z.string().nullable(),
  since: z.string(),
  delivering: z.array(deliveringSchema).optional(),
});

type Lease = z.infer<typeof leaseSchema>;

/** What {@link TileLease.take} found. */
export type LeaseTaken =
  /**
   * This run holds the lease; `took_over` names a holder that no longer ran; `delivering`, the
   * other runs past ReleaseTiles that still run (none can join them while this run holds the lease).
   */
  | { readonly taken: true; readonly took_over?: string; readonly delivering: readonly DeliveringRun[] }
  /** Another running execution holds it. */
  | { readonly taken: false; readonly holder: string };

/** Compare-and-swap attempts before a contended lease is left to the step's retry (ConcurrentUpdateError). */
const ATTEMPTS = 5;

/** No lease: none written yet, or one that cannot be read (taken over). */
const FREE: Lease = { holder: null, since: '' };

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
   * an execution that is not among the running ones, for longer than the listing's grace. Taking
   * it prunes the delivering entries of runs that no longer run. A lost compare-and-swap re-reads
   * and decides again.
   */
  take(runId: string, executions: RunningExecutions): Promise<LeaseTaken> {
    return this.swap('taken', async (lease): Promise<Decision<LeaseTaken>> => {
      const { holder } = lease;
      if (holder !== null && holder !== runId && (await this.runs(holder, lease.since, executions))) {
        return { result: { taken: false, holder } };
      }
      const entries = (lease.delivering ?? []).filter((d) => d.run !== runId);
      const delivering: DeliveringRun[] = [];
      for (const entry of entries) if (await this.runs(entry.run, entry.since, executions)) delivering.push(entry);
      if (holder === runId) return { result: { taken: true, delivering } };
      return {
        result: holder === null ? { taken: true, delivering } : { taken: true, took_over: holder, delivering },
        next: { holder: runId, since: this.now().toISOString(), ...(delivering.length > 0 ? { delivering } : {}) },
      };
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
      return { result: true, next: { holder: null, since, delivering: [...others, { run: runId, since, cohorts: [...cohorts] }] } };
    });
  }

  /**
   * Finish and AlertFailure: the run is over. Gives the lease back when `runId` still holds it
   * (ReleaseTiles failed, or the run failed before it) and takes its own delivering entry out,
   * never another run's; whether it gave the lease back.
   */
  end(runId: string): Promise<boolean> {
    return this.swap('given back', async (lease): Promise<Decision<boolean>> => {
      const held = lease.holder === runId;
      const others = (lease.delivering ?? []).filter((d) => d.run !== runId);
      if (!held && others.length === (lease.delivering ?? []).length) return { result: false };
      const holder = held ? { holder: null, since: this.now().toISOString() } : { holder: lease.holder, since: lease.since };
      return { result: held, next: { ...holder, ...(others.length > 0 ? { delivering: others } : {}) } };
    });
  }

  /** Whether `run` (recorded at `since`) still counts: recorded within the listing's grace, or running. */
  private async runs(run: string, since: string, executions: RunningExecutions): Promise<boolean> {
    // An unreadable instant counts as old: the running executions alone decide.
    const sinceMs = Date.parse(since);
    if (!Number.isNaN(sinceMs) && this.now().getTime() - sinceMs < LISTING_GRACE_MS) return true;
    return (await executions.running()).some((e) => e.name === run);
  }

  /** Reads the lease, decides, and writes what was decided by compare-and-swap; a lost race reads and decides again. */
  private async swap<T>(doing: string, decide: (lease: Lease) => Promise<Decision<T>>): Promise<T> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const seen = await this.blobs.getWithEtag(TILE_LEASE_KEY);
      const { result, next } = await decide(leaseOf(seen));
      if (next === undefined) return result;
      try {
        await this.blobs.putIfUnchanged(TILE_LEASE_KEY, `${JSON.stringify(next)}\n`, seen?.etag);
        return result;
      } catch (error) {
        if (!(error instanceof ConcurrentUpdateError)) throw error;
      }
    }
    throw new ConcurrentUpdateError(`the tile store's lease (${this.blobs.locate(TILE_LEASE_KEY)}) kept changing while ${doing}`);
  }
}
