import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { header } from '../support/lake.ts';
import { FakeAws } from './fake-aws.ts';
import { ENVIRONMENT, givenDeployment, type Handler, loadHandlers, RUN } from './handler-support.ts';

const aws = new FakeAws();
const sfn = mockClient(SFNClient);
let plan: Handler;
const realtimeTick = { request: { trigger: 'schedule:realtime', cadence: 'realtime' }, run_id: RUN, started_at: '2026-12-05T06:05:00Z' };
const executionArn = (name: string) => `${ENVIRONMENT.STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`;

/** The state machine running these executions (besides this one), each with its input. */
function givenRunning(others: { name: string; startDate: string; input: string }[]): void {
  const all = [...others, { name: RUN, startDate: realtimeTick.started_at, input: JSON.stringify(realtimeTick.request) }];
  sfn.on(ListExecutionsCommand, { stateMachineArn: ENVIRONMENT.STATE_MACHINE_ARN, statusFilter: 'RUNNING' }).resolves({
    executions: all.map((e) => ({
      executionArn: executionArn(e.name),
      stateMachineArn: ENVIRONMENT.STATE_MACHINE_ARN,
      name: e.name,
      status: 'RUNNING',
      startDate: new Date(e.startDate),
    })),
  });
  for (const e of all) sfn.on(DescribeExecutionCommand, { executionArn: executionArn(e.name) }).resolves({ input: e.input });
}

describe('the Plan handler on a scheduled tick (no overlap, no empty runs)', () => {
  beforeAll(async () => {
    plan = (await loadHandlers()).Plan as Handler;
  });

  beforeEach(() => {
    aws.reset();
    sfn.reset();
    givenDeployment(aws);
  });

  it('skips a realtime tick when no cohort is realtime, asking Step Functions and Athena nothing', async () => {
    expect(await plan(realtimeTick)).toEqual({ skipped: { reason: 'no-cohorts', cadence: 'realtime' } });
    expect(sfn.calls()).toHaveLength(0);
    expect(aws.athena.calls()).toHaveLength(0);
  });

  it('skips a realtime tick while an earlier realtime run still runs, and plans one when only other cadences run', async () => {
    aws.put(
      'cohorts-definitions',
      'now_active.yaml',
      `${header('now_active').replace('daily', 'realtime')}rule:\n  event: login\n  within: 1h\n`,
    );
    givenRunning([{ name: 'earlier', startDate: '2026-12-05T06:00:00Z', input: '{"trigger":"schedule:realtime","cadence":"realtime"}' }]);
    expect(await plan(realtimeTick)).toEqual({ skipped: { reason: 'overlap', cadence: 'realtime', running: 'earlier' } });
    expect(aws.athena.calls()).toHaveLength(0);

    sfn.reset();
    givenRunning([{ name: 'daily-run', startDate: '2026-12-05T06:00:00Z', input: '{"trigger":"schedule:daily","cadence":"daily"}' }]);
    const planned = (await plan(realtimeTick)) as { plan: { cohorts: { id: string }[] } };
    expect(planned.plan.cohorts.map((c) => c.id)).toEqual(['now_active']);
  });
});
