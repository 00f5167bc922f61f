/**
 * The running invocation's deadline, for the waits of its Athena queries (AthenaQueryRunner's
 * `remainingMs`). The ports are built once per container but a Lambda invocation ends at its
 * timeout, killing whatever it waits for while the Athena query it started goes on; so each
 * invocation records, when it starts, until when its waits may last: its remaining time less a
 * minute to stop the query and report the timeout (at least 10 s), as the per-query wait
 * `ATHENA_MAX_WAIT_MS` is set (infra/common/refresh-function.ts).
 */

/** What the deadline is read from: the Lambda context (its `getRemainingTimeInMillis`, when it has one). */
export type InvocationClock = { readonly [key: string]: unknown };

/** Time left at the deadline to stop the query and report the timeout. */
const REPORT_MARGIN_MS = 60_000;
/** The least wait an invocation is given, whatever its timeout. */
const LEAST_WAIT_MS = 10_000;

let deadline: number | undefined;

/** Records the deadline of the invocation starting now (none when the context tells no remaining time). */
export function startInvocation(context: InvocationClock | undefined, now: () => number = Date.now): void {
  const clock = context?.getRemainingTimeInMillis;
  const remaining = typeof clock === 'function' ? Number(clock.call(context)) : Number.NaN;
  deadline = Number.isFinite(remaining) ? now() + Math.max(LEAST_WAIT_MS, remaining - REPORT_MARGIN_MS) : undefined;
}

/** How long the running invocation may still wait for a query; undefined outside an invocation with a deadline. */
export function invocationRemainingMs(now: () => number = Date.now): number | undefined {
  return deadline === undefined ? undefined : deadline - now();
}
