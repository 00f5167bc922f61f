/**
 * Errors of the refresh workflow. Step Functions `Retry` and `Catch` match on `name`, so every
 * failure a retrier or catcher must tell apart has its own class.
 */

/**
 * A condition that clears by itself (a lock held by another run, a dependency that is briefly
 * unavailable): the state machine retries the step with exponential backoff.
 */
export class TransientError extends Error {
  override readonly name = 'TransientError';
}

/** The name of {@link TilesBusyError}, which Plan's own retrier matches. */
export const TILES_BUSY_ERROR = 'TilesBusyError';

/**
 * Another execution holds the lease over the tile store (tile-lease.ts), or gave it back but still
 * snapshots a cohort this run planned, or has waited for it since before this run did (`ahead`): Plan of a run that must not be skipped throws it, and the state machine retries Plan every 30 s for up to 30 minutes
 * (long enough for a realtime tick to finish), then fails and alerts as on any error.
 */
export class TilesBusyError extends Error {
  override readonly name = TILES_BUSY_ERROR;

  constructor(
    readonly holder: string,
    /** Set when `holder` gave the lease back but still snapshots these cohorts, which this run planned too. */
    readonly cohorts?: readonly string[],
    /** Set when the lease is free (or may be taken over) but `holder` waits for it and was refused before this run. */
    readonly ahead?: true,
  ) {
    super(
      ahead
        ? `execution ${holder} has waited for the tile store's lease since before this run; this run waits its turn`
        : cohorts === undefined
          ? `the tiles are busy: execution ${holder} holds the tile store's lease; this run waits for it to finish`
          : `execution ${holder} still snapshots ${cohorts.join(', ')}, which this run planned too; this run waits for it to finish`,
    );
  }
}

/**
 * Names of our own errors every Lambda task retries: {@link TransientError}; `ThrottledError`,
 * which the cloud adapters raise when AWS throttling outlasts the SDK's own retries
 * (shared/cloud/errors.ts); `AthenaQueryRetryableError`, a query Athena failed but marks as
 * worth retrying (shared/cloud/athena-query.ts); `EventPublishError`, entries EventBridge
 * refused (throttling or its internal failures, per entry; shared/cloud/events-publisher.ts); and
 * `ConcurrentUpdateError`, a compare-and-swap of `current.json` still contended after the store's
 * own attempts (shared/ports.ts), which a retry re-reads and decides again. `CurrentMovedError`
 * (another run published first) is not retried: it is caught and alerted like any failure.
 */
export const TRANSIENT_ERROR_NAMES = [
  'TransientError',
  'ThrottledError',
  'AthenaQueryRetryableError',
  'EventPublishError',
  'ConcurrentUpdateError',
] as const;
