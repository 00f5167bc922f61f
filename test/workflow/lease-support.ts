import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, expect } from 'vitest';
import type { WorkflowPlan } from '../../shared/workflow/types.ts';
import { header } from '../support/lake.ts';
import { FakeAws } from './fake-aws.ts';
import { ENVIRONMENT, EVALUATION, givenDeployment, type Handler, loadHandlers, RUN, TILES } from './handler-support.ts';

/**
 * The fakes and builders of the tile store's lease tests (tile-lease-*.test.ts): the real step
 * handlers over a fake AWS, Step Functions listing the executions a test says run.
 */

export const aws = new FakeAws();
const sfn = mockClient(SFNClient);
let handlers: Record<string, Handler> = {};

/** Loads the handlers once, and before each test a deployment with a realtime cohort (`now_active`) beside `payers`. */
export function useLeaseWorld(): void {
  beforeAll(async () => {
    handlers = await loadHandlers();
  });
  beforeEach(() => {
    aws.reset();
    givenDeployment(aws);
    aws.put(
      'cohorts-definitions',
      'now_active.yaml',
      `${header('now_active').replace('daily', 'realtime')}rule:\n  event: login\n  within: 1h\n`,
    );
  });
}

/** Runs a step's handler. */
export const run = (step: string, event: unknown) => (handlers[step] as Handler)(event);
export const LEASE = 'tiles/lease.json';
export const executionArn = (name: string) => `${ENVIRONMENT.STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`;

/** A Plan event: a run's request, id and start. */
export interface RunEvent {
  readonly request: object;
  readonly run_id: string;
  readonly started_at: string;
}

/** A realtime tick (the run the fakes' evaluation belongs to) and a daily run started a minute later. */
export const tick = { request: { trigger: 'schedule:realtime', cadence: 'realtime' }, run_id: RUN, started_at: '2026-12-05T06:00:00Z' };
export const daily = { request: { trigger: 'schedule:daily', cadence: 'daily' }, run_id: 'daily-run', started_at: '2026-12-05T06:01:00Z' };
/** A manual run named `id` (of `cohorts`, or of every cohort). */
export const manualRun = (id: string, cohorts?: string[], started_at = daily.started_at) => ({
  ...daily,
  request: { trigger: 'manual', ...(cohorts === undefined ? {} : { cohorts }) },
  run_id: id,
  started_at,
});

/** Step Functions running these executions; `meanwhile` runs when they are listed (another run acting in between). */
export function givenRunning(runs: readonly RunEvent[], meanwhile: () => void = () => {}): void {
  sfn.reset();
  sfn.on(ListExecutionsCommand).callsFake(() => {
    meanwhile();
    return {
      executions: runs.map((r) => ({
        executionArn: executionArn(r.run_id),
        stateMachineArn: ENVIRONMENT.STATE_MACHINE_ARN,
        name: r.run_id,
        status: 'RUNNING',
        startDate: new Date(r.started_at),
      })),
    };
  });
  for (const r of runs)
    sfn.on(DescribeExecutionCommand, { executionArn: executionArn(r.run_id) }).resolves({ input: JSON.stringify(r.request) });
}

/** The lease object as written (an empty object when there is none). */
export const leaseObject = <T extends object>(): Partial<T> => {
  const text = aws.text('cohorts-snapshots', LEASE);
  return text === undefined ? {} : (JSON.parse(text) as Partial<T>);
};

/** The Finish of the tick's run, with nothing snapshotted or delivered. */
export const finish = (plan: WorkflowPlan) =>
  run('Finish', { plan, evaluation: EVALUATION, tiles: TILES, snapshots: [], deliveries: [], started_at: tick.started_at });
/** The lease's holder (undefined with no lease object). */
export const leaseHolder = () =>
  aws.text('cohorts-snapshots', LEASE) === undefined ? undefined : leaseObject<{ holder: string | null }>().holder;
/** A lease `holder` took long ago; `until`, the instant a Plan that found it gone recorded. */
export const givenLease = (holder: string, until?: string) =>
  aws.put('cohorts-snapshots', LEASE, JSON.stringify({ holder, since: '2026-12-05T05:00:00Z', ...(until === undefined ? {} : { until }) }));
/** A free lease whose one delivering entry, `run`'s of `cohorts`, is past its `until`: it ended long ago without Finish. */
export const givenDeliveredLongAgo = (run: string, cohorts: string[]) =>
  aws.put(
    'cohorts-snapshots',
    LEASE,
    JSON.stringify({ holder: null, since: minutesAgo(20), delivering: [{ run, since: minutesAgo(20), cohorts, until: minutesAgo(1) }] }),
  );
/** The holder's `until` the lease records. */
export const holderUntil = () => leaseObject<{ until: string }>().until;
/** The runs past ReleaseTiles the lease records, with their cohorts. */
export const delivering = () =>
  (leaseObject<{ delivering: { run: string; cohorts: string[] }[] }>().delivering ?? []).map((d) => [d.run, d.cohorts]);
/** The runs the lease records as waiting for it, in its order. */
export const waiting = () => (leaseObject<{ waiting: { run: string }[] }>().waiting ?? []).map((w) => w.run);
/** ReleaseTiles of a run with its plan, as the state machine passes it (`$.plan.cohorts`). */
export const releaseTiles = (plan: WorkflowPlan) => run('Finish', { release_tiles: { run_id: plan.run_id, cohorts: plan.cohorts } });
export const planOf = async (event: object) => ((await run('Plan', event)) as { plan: WorkflowPlan }).plan;
export const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
/** AlertFailure's input for `run` failed in `step`. */
export const failedIn = (step: string, run: string) => ({
  error: { Error: 'States.TaskFailed', Cause: 'boom' },
  failed: { step, execution: executionArn(run) },
});

export const DELETION_REQUEST = 'privacy/deletion-requests/ticket-1.json';
/** The deletion request as stored. */
export const deletionRequest = () => aws.text('cohorts-snapshots', DELETION_REQUEST);

/** `event` (a tick of now_active) plans now_active, carries the deletion request out and prunes the delivering entries. */
export async function expectPlansErasesAndPrunes(event: object): Promise<void> {
  expect((await planOf(event)).cohorts.map((c) => c.id)).toEqual(['now_active']);
  expect(JSON.parse(deletionRequest() as string)).toHaveProperty('processed_at');
  expect(delivering()).toEqual([]);
}
