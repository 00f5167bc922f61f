import { ThrottledError } from './errors.ts';

/** Error names AWS services use for throttling, across S3, Athena, SNS and EventBridge. */
const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'SlowDown',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
]);

/** The service error fields every AWS SDK v3 exception carries. */
interface ServiceErrorShape {
  readonly name: string;
  readonly $retryable?: { readonly throttling?: boolean };
  readonly $metadata?: { readonly httpStatusCode?: number };
}

const asServiceError = (error: unknown): Partial<ServiceErrorShape> =>
  typeof error === 'object' && error !== null ? (error as Partial<ServiceErrorShape>) : {};

/** The HTTP status of an SDK error, when the service answered. */
export const httpStatusOf = (error: unknown): number | undefined => asServiceError(error).$metadata?.httpStatusCode;

/** The error name of an SDK error (`NoSuchKey`, `PreconditionFailed`, ...). */
export const errorNameOf = (error: unknown): string | undefined => asServiceError(error).name;

/** Whether an SDK error is throttling (after the SDK's own retries, which it has given up on). */
export function isThrottling(error: unknown): boolean {
  const e = asServiceError(error);
  return e.$retryable?.throttling === true || THROTTLING_NAMES.has(e.name ?? '') || e.$metadata?.httpStatusCode === 429;
}

/** Runs one AWS call; throttling surfaces as {@link ThrottledError}, anything else unchanged. */
export async function awsCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isThrottling(error)) throw new ThrottledError(operation, error);
    throw error;
  }
}
