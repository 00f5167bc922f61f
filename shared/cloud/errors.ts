/**
 * Errors the cloud adapters raise where a caller or a Step Functions `Retry`/`Catch` must branch:
 * each has its own name, which is what a state machine matches on.
 */

/** An AWS call was throttled and the SDK's own retries ran out: retry later, with backoff. */
export class ThrottledError extends Error {
  override readonly name = 'ThrottledError';

  constructor(
    /** The operation, e.g. `Athena.StartQueryExecution`. */
    readonly operation: string,
    cause: unknown,
  ) {
    super(`${operation} was throttled: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * A conditional write lost a race: the object changed (or appeared, or vanished) since it was
 * read. Re-read and decide again; never retry the same write blindly.
 */
export class ConcurrentUpdateError extends Error {
  override readonly name = 'ConcurrentUpdateError';
}

/** A bucket name, key prefix or s3:// URI that cannot be used safely. */
export class InvalidS3LocationError extends Error {
  override readonly name = 'InvalidS3LocationError';
}
