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
 */

/**
 * How old a lease must be before a holder missing from the running executions counts as gone.
 * ListExecutions "may not reflect very recent updates": without this, a run could take over the
 * lease of one that took it a moment ago and is not listed yet. A few minutes is far beyond the
 * listing's lag and costs only that much delay after a crash.
 */
export const LISTING_GRACE_MS = 5 * 60_000;

/** The lease object: which execution holds the tiles and since when; `holder: null` once given back. */
const leaseSchema = z.object({ holder: z.string().nullable(), since: z.string() });

/** What {@link TileLease.take} found. */
export type LeaseTaken =
  /** This run holds the lease; `took_over` names a holder that no longer ran. */
  | { readonly taken: true; readonly took_over?: string }
  /** Another running execution holds it. */
  | { readonly taken: false; readonly holder: string };

/** Compare-and-swap attempts before a contended lease is left to the step's retry (ConcurrentUpdateError). */
const ATTEMPTS = 5;

/** The lease the object holds; undefined when there is none, it was given back, or it cannot be read (taken over). */
function leaseOf(seen: EtaggedBlob | undefined): { readonly holder: string; readonly sinceMs: number } | undefined {
  if (!seen) return undefined;
  try {
    const parsed = leaseSchema.safeParse(JSON.parse(new TextDecoder().decode(seen.body)));
    if (!parsed.success || parsed.data.holder === null) return undefined;
    // An unreadable instant counts as old: the running executions alone decide.
    const sinceMs = Date.parse(parsed.data.since);
    return { holder: parsed.data.holder, sinceMs: Number.isNaN(sinceMs) ? 0 : sinceMs };
  } catch {
    return undefined;
  }
}

/** The lease over the tile store, in a blob store (the snapshots bucket, beside the tiles). */
export class TileLease {
  constructor(
    private readonly blobs: BlobStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Takes the lease for `runId`: when it is free, already this run's (a retried Plan), or held by
   * an execution that is not among the running ones, for longer than the listing's grace. A lost
   * compare-and-swap re-reads and decides again.
   */
  async take(runId: string, executions: RunningExecutions): Promise<LeaseTaken> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const seen = await this.blobs.getWithEtag(TILE_LEASE_KEY);
      const lease = leaseOf(seen);
      if (lease?.holder === runId) return { taken: true };
      if (lease !== undefined) {
        const recent = this.now().getTime() - lease.sinceMs < LISTING_GRACE_MS;
        if (recent || (await executions.running()).some((e) => e.name === lease.holder)) return { taken: false, holder: lease.holder };
      }
      try {
        await this.write(runId, seen);
        return lease === undefined ? { taken: true } : { taken: true, took_over: lease.holder };
      } catch (error) {
        if (!(error instanceof ConcurrentUpdateError)) throw error;
      }
    }
    throw new ConcurrentUpdateError(`the tile store's lease (${this.blobs.locate(TILE_LEASE_KEY)}) kept changing while taken`);
  }

  /** Gives the lease back when `runId` still holds it (never another run's); whether it did. */
  async release(runId: string): Promise<boolean> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const seen = await this.blobs.getWithEtag(TILE_LEASE_KEY);
      if (leaseOf(seen)?.holder !== runId) return false;
      try {
        await this.write(null, seen);
        return true;
      } catch (error) {
        if (!(error instanceof ConcurrentUpdateError)) throw error;
      }
    }
    throw new ConcurrentUpdateError(`the tile store's lease (${this.blobs.locate(TILE_LEASE_KEY)}) kept changing while given back`);
  }

  private write(holder: string | null, seen: EtaggedBlob | undefined): Promise<string> {
    const body = `${JSON.stringify({ holder, since: this.now().toISOString() })}\n`;
    return this.blobs.putIfUnchanged(TILE_LEASE_KEY, body, seen?.etag);
  }
}
