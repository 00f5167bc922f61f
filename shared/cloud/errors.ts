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

/** A lost conditional write; a port-level error (shared/ports.ts), named here too for the adapters. */
export { ConcurrentUpdateError } from '../ports.ts';

/** A bucket name, key prefix or s3:// URI that cannot be used safely. */
export class InvalidS3LocationError extends Error {
  override readonly name = 'InvalidS3LocationError';
}
