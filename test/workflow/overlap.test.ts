import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { SfnRunningExecutions } from '../../shared/cloud/sfn-running-executions.ts';
import { skippedByOverlap, skippedWithoutCohorts } from '../../shared/workflow/overlap.ts';
import type { CohortDefinition } from '../../shared/language/ast.ts';

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:cohort-refresh';
const executionArn = (name: string) => `arn:aws:states:eu-west-1:123456789012:execution:cohort-refresh:${name}`;

/** Step Functions listing these running executions, each started with the input given. */
function givenRunning(executions: { name: string; startDate: string; input: string }[]): SfnRunningExecutions {
  const sfn = mockClient(SFNClient);
  sfn.on(ListExecutionsCommand, { stateMachineArn: MACHINE, statusFilter: 'RUNNING' }).resolves({
    executions: executions.map((e) => ({
      executionArn: executionArn(e.name),
      stateMachineArn: MACHINE,
      name: e.name,
      status: 'RUNNING',
      startDate: new Date(e.startDate),
    })),
  });
  for (const e of executions) {
    sfn.on(DescribeExecutionCommand, { executionArn: executionArn(e.name) }).resolves({ input: e.input, startDate: new Date(e.startDate) });
  }
  return new SfnRunningExecutions(new SFNClient({}), MACHINE);
}

const planEvent = (cadence: 'realtime' | 'daily' | undefined, run_id = 'late-run', started_at = '2026-12-05T06:05:00Z') => ({
  request: { trigger: cadence ? `schedule:${cadence}` : 'manual', ...(cadence ? { cadence } : {}) },
  run_id,
  started_at,
});

describe('no overlap of a cadence’s runs in the cloud (Plan skips)', () => {
  const running = [
    { name: 'late-run', startDate: '2026-12-05T06:05:00Z', input: '{"trigger":"schedule:realtime","cadence":"realtime"}' },
    { name: 'early-run', startDate: '2026-12-05T06:00:00Z', input: '{"trigger":"schedule:realtime","cadence":"realtime"}' },
    { name: 'daily-run', startDate: '2026-12-05T05:59:00Z', input: '{"trigger":"schedule:daily","cadence":"daily"}' },
    { name: 'manual-run', startDate: '2026-12-05T05:58:00Z', input: '{"trigger":"manual"}' },
  ];

  it('skips a run when an earlier run of its cadence still runs, naming it', async () => {
    expect(await skippedByOverlap(planEvent('realtime'), givenRunning(running))).toEqual({
      skipped: { reason: 'overlap', cadence: 'realtime', running: 'early-run' },
    });
  });

  it('lets the earliest run of a cadence go on, and runs of other cadences or of none are no obstacle', async () => {
    expect(await skippedByOverlap(planEvent('realtime', 'early-run', '2026-12-05T06:00:00Z'), givenRunning(running))).toBeUndefined();
    expect(await skippedByOverlap(planEvent('daily', 'daily-run', '2026-12-05T05:59:00Z'), givenRunning(running))).toBeUndefined();
    expect(await skippedByOverlap(planEvent(undefined, 'manual-run'), givenRunning(running))).toBeUndefined();
  });

  it('of two runs started at the same instant, exactly one goes on', async () => {
    const twins = [
      { name: 'a-run', startDate: '2026-12-05T06:00:00Z', input: '{"cadence":"realtime"}' },
      { name: 'b-run', startDate: '2026-12-05T06:00:00Z', input: '{"cadence":"realtime"}' },
    ];
    const a = await skippedByOverlap(planEvent('realtime', 'a-run', '2026-12-05T06:00:00Z'), givenRunning(twins));
    const b = await skippedByOverlap(planEvent('realtime', 'b-run', '2026-12-05T06:00:00Z'), givenRunning(twins));
    expect([a, b]).toEqual([undefined, { skipped: { reason: 'overlap', cadence: 'realtime', running: 'a-run' } }]);
  });

  it('skips a scheduled run of a cadence no live cohort has, but never a run naming cohorts or over a catalog with problems', () => {
    const catalog = (cadences: string[], problems: unknown[] = []) => ({
      definitions: cadences.map((cadence, i) => ({ id: `c${i}`, cadence, deprecated: cadence === 'daily' }) as unknown as CohortDefinition),
      problems,
    });
    expect(skippedWithoutCohorts(planEvent('realtime'), catalog(['hourly', 'daily']))).toEqual({
      skipped: { reason: 'no-cohorts', cadence: 'realtime' },
    });
    // a deprecated cohort is never refreshed
    expect(skippedWithoutCohorts(planEvent('daily'), catalog(['daily']))).toEqual({ skipped: { reason: 'no-cohorts', cadence: 'daily' } });
    expect(skippedWithoutCohorts(planEvent('realtime'), catalog(['realtime']))).toBeUndefined();
    expect(skippedWithoutCohorts(planEvent('realtime'), catalog([], [{ message: 'bad' }]))).toBeUndefined();
    expect(
      skippedWithoutCohorts(
        { ...planEvent('realtime'), request: { trigger: 'manual', cadence: 'realtime', cohorts: ['c0'] } },
        catalog([]),
      ),
    ).toBeUndefined();
    expect(skippedWithoutCohorts(planEvent(undefined), catalog([]))).toBeUndefined();
  });
});
