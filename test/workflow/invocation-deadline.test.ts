import { describe, expect, it } from 'vitest';
import { stepHandler } from '../../functions/commons/handler.ts';
import { invocationRemainingMs, startInvocation } from '../../functions/commons/invocation.ts';
import { z } from 'zod';

describe("an invocation's deadline for its Athena waits", () => {
  it('is the remaining time less a minute to stop the query and report, at least 10 s, and none without a Lambda clock', () => {
    // GIVEN an invocation of a 900 s function starting at t = 1,000 s WHEN 100 s have passed THEN 740 s are left
    startInvocation({ getRemainingTimeInMillis: () => 900_000 }, () => 1_000_000);
    expect(invocationRemainingMs(() => 1_100_000)).toBe(740_000);
    // AND a 30 s function still waits 10 s
    startInvocation({ getRemainingTimeInMillis: () => 30_000 }, () => 0);
    expect(invocationRemainingMs(() => 0)).toBe(10_000);
    // AND a call without a Lambda context (the CLI, tests) has no deadline, nor keeps the previous invocation's
    startInvocation(undefined);
    expect(invocationRemainingMs()).toBeUndefined();
  });

  it('is recorded by every step handler when its invocation starts, from the Lambda context', async () => {
    const handler = stepHandler({
      step: 'Probe',
      schema: z.object({}),
      ports: () => ({}),
      run: async () => invocationRemainingMs(),
    });
    const left = await handler({}, { functionName: 'probe', awsRequestId: 'r-1', getRemainingTimeInMillis: () => 120_000 });
    expect(left).toBeGreaterThan(50_000);
    expect(left).toBeLessThanOrEqual(60_000);
  });
});
