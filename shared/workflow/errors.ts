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
 * worth retrying (shared/cloud/athena-query.ts); and `EventPublishError`, entries EventBridge
 * refused (throttling or its internal failures, per entry; shared/cloud/events-publisher.ts).
 */
export const TRANSIENT_ERROR_NAMES = ['TransientError', 'ThrottledError', 'AthenaQueryRetryableError', 'EventPublishError'] as const;

/** A step's input does not have the expected shape: a wiring bug, never retried. */
export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';

  constructor(
    /** The step whose input was rejected. */
    readonly step: string,
    /** One line per problem, `path: message`. */
    readonly problems: readonly string[],
  ) {
    super(`invalid input for ${step}: ${problems.join('; ')}`);
  }
}

/** The result the Evaluate state kept cannot be found (already released, or another run's). */
export class EvaluationNotFoundError extends Error {
  override readonly name = 'EvaluationNotFoundError';
}
