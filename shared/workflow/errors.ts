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
