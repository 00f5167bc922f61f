import 'aws-sdk-client-mock-vitest/extend';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand } from '@aws-sdk/client-sns';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SOURCE_CHECK_COLUMNS } from '../../shared/checks/source-rows.ts';
import type { WorkflowPlan } from '../../shared/workflow/types.ts';
import { definitionYaml, definitions, entries } from '../governance/support.ts';
import { FakeAws, type FakeQuery } from './fake-aws.ts';
import { answeredDigests, ENVIRONMENT, TILES } from './handler-support.ts';
import { PARQUET_EVENTS_MILLIS } from '../cloud/parquet-ts.ts';

const PUBLISHED = { core_users: definitionYaml('core_users', { rule: '  event: login\n  within: 7d' }) };
const WIDER = definitionYaml('core_users', { rule: '  event: login\n  within: 30d', reason: 'A month shows regulars better.' });
const WIDER_HASH = definitions({ core_users: WIDER })[0]?.hash as string;
const CTAS_ID = 'q-evaluate';
const EVALUATION = { query_execution_id: CTAS_ID };

const aws = new FakeAws();
type Handler = (event: unknown) => Promise<unknown>;
const handlers: Record<string, Handler> = {};

/** Source checks find nothing; the impact query doubles core_users (10 -> 20 members). */
function answer(query: FakeQuery): void {
  if (query.sql.startsWith('SELECT count_if('))
    query.rows = [
      ['after_0', 'before_0', 'added_0', 'removed_0'],
      ['20', '10', '10', '0'],
    ];
  else if (!answeredDigests(aws, query)) query.rows = [[...SOURCE_CHECK_COLUMNS]];
}

describe('the cloud refresh with a definition change that needs an approval', () => {
  beforeAll(async () => {
    for (const [key, value] of Object.entries(ENVIRONMENT)) vi.stubEnv(key, value);
    handlers.Plan = (await import('../../functions/plan.ts')).handler;
    handlers.Finish = (await import('../../functions/finish.ts')).handler;
  });

  beforeEach(() => {
    aws.reset();
    const entry = entries(PUBLISHED).get('core_users');
    aws.put('cohorts-definitions', 'catalog/cohort=core_users/version=1.json', JSON.stringify(entry));
    aws.put('cohorts-definitions', 'core_users.yaml', WIDER);
    aws.put('cohorts-lake', 'events/dt=2024-05-31/part-0.parquet', PARQUET_EVENTS_MILLIS);
    aws.ran({ id: CTAS_ID, sql: 'CREATE TABLE "cohort_refresh"."evaluation_r2" WITH (format = \'PARQUET\') AS\nSELECT 1', outputRows: 30 });
    aws.tables.set('evaluation_r2', `s3://cohorts-results/results/tables/${CTAS_ID}`);
    aws.answer = answer;
  });

  it('Plan records the wait in the bucket catalog, and Finish alerts the owner with the command that approves it in the cloud', async () => {
    // Act
    const { plan } = (await handlers.Plan!({
      request: { trigger: 'definition-change', cohorts: ['core_users'], as_of: '2024-06-01T00:00:00Z' },
      run_id: 'r2',
      started_at: '2024-06-01T00:00:00Z',
    })) as { plan: WorkflowPlan };
    await handlers.Finish?.({
      plan,
      evaluation: EVALUATION,
      tiles: TILES,
      snapshots: [],
      deliveries: [],
      started_at: '2024-06-01T00:00:00Z',
    });
    // Assess: the refresh ran the accepted definition and recorded what waits.
    expect(plan.cohorts[0]?.definition).toMatchObject({ version: 1, hash: entries(PUBLISHED).get('core_users')?.hash });
    expect(plan.governance?.changes[0]).toMatchObject({
      cohort: 'core_users',
      verdict: 'pending',
      hash: WIDER_HASH,
      impact: { before: 10, after: 20 },
    });
    expect(aws.keys('cohorts-definitions')).toContain(`catalog/guardrails/cohort=core_users/pending-${WIDER_HASH}.json`);
    // One alert to the owner with what waits and how to decide it.
    const published = aws.sns.commandCalls(PublishCommand).map((call) => call.args[0].input);
    const alert = published.find((input) => input.Subject?.includes('definition changes'));
    expect(alert?.Subject).toContain('1 waiting for approval (core_users)');
    expect(alert?.Message).toContain(
      'core_users (owner: test-team): change waits for an approval; the refresh keeps its accepted definition v1.',
    );
    expect(alert?.Message).toContain('its new rule moves its size +100% (10 -> 20 members on the current data)');
    expect(alert?.Message).toContain(
      `approve: cohorts approve core_users --cloud --hash ${WIDER_HASH.slice(0, 12)} --by NAME --note WHY (or cohorts reject ...)`,
    );
    expect(alert?.Message).toContain(
      `or write the decision object s3://cohorts-definitions/catalog/decisions/cohort=core_users/${WIDER_HASH}.json`,
    );
    // Nothing was accepted, so nothing is announced.
    expect(aws.events).not.toHaveReceivedCommand(PutEventsCommand);
  });

  it('Plan announces a definition version it accepts as a Definition Accepted event on the bus', async () => {
    // Prepare: the wider rule was approved.
    aws.put(
      'cohorts-definitions',
      `catalog/decisions/cohort=core_users/${WIDER_HASH}.json`,
      JSON.stringify({
        cohort: 'core_users',
        hash: WIDER_HASH,
        decision: 'approved',
        by: 'dana',
        note: 'Reviewed.',
        at: '2024-06-01T01:00:00Z',
      }),
    );
    // Act
    await handlers.Plan?.({
      request: { trigger: 'definition-change', cohorts: ['core_users'] },
      run_id: 'r3',
      started_at: '2024-06-01T02:00:00Z',
    });
    // Assess
    expect(aws.events).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    const [entry] = aws.events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries ?? [];
    expect(entry).toMatchObject({ Source: 'cohort-refresh', DetailType: 'Definition Accepted', EventBusName: 'default' });
    expect(JSON.parse(entry?.Detail as string)).toEqual({
      status: 'accepted',
      cohort: 'core_users',
      version: 2,
      change: 'changed',
      hash: WIDER_HASH,
      location: 's3://cohorts-definitions/core_users.yaml',
      change_reason: 'A month shows regulars better.',
      author: null,
      approval: { cohort: 'core_users', hash: WIDER_HASH, decision: 'approved', by: 'dana', note: 'Reviewed.', at: '2024-06-01T01:00:00Z' },
      accepted_at: '2024-06-01T02:00:00Z',
      run_id: 'r3',
    });
    expect(aws.keys('cohorts-definitions')).toContain('catalog/cohort=core_users/version=2.json');
  });
});
