import 'aws-sdk-client-mock-vitest/extend';
import { StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../shared/config/config.ts';
import { runConfigOf } from '../../shared/workflow/run-config.ts';
import type { WorkflowPlan } from '../../shared/workflow/types.ts';
import { FakeAws } from './fake-aws.ts';
import { givenDeployment, type Handler, loadHandlers, planEvent } from './handler-support.ts';

const aws = new FakeAws();
let handlers: Record<string, Handler> = {};
const CONFIG_URI = 's3://cohorts-definitions/cohorts.config.yaml';
const plan = async () => ((await handlers.Plan!(planEvent)) as { plan: WorkflowPlan }).plan;

describe('the project config in the cloud (cohorts.config.yaml of the definitions bucket)', () => {
  beforeAll(async () => {
    handlers = await loadHandlers();
  });

  beforeEach(() => {
    aws.reset();
    givenDeployment(aws);
  });

  it('is read by Plan: its metrics and source settings shape the plan, and the plan carries its privacy settings and hash', async () => {
    // Prepare
    aws.put(
      'cohorts-definitions',
      'cohorts.config.yaml',
      'sources:\n  crm: {expected: true}\nmetrics:\n  activation: {event: login, source: product, within: 7d}\nprivacy:\n  personal_properties: [email]\n',
    );
    // Act
    const planned = await plan();
    // Assess
    expect(aws.s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: 'cohorts-definitions', Key: 'cohorts.config.yaml' });
    expect(planned.metrics.settings.activation).toMatchObject({
      events: ['login'],
      sources: ['product'],
      window: { kind: 'within', duration: { text: '7d' } },
    });
    expect(planned.query).toContain("'login'");
    const crm = planned.source_checks.sources.find((s) => s.source === 'crm');
    expect(crm?.checks).toContainEqual(expect.objectContaining({ name: 'source.freshness', status: 'fail' }));
    expect(planned.config.privacy).toEqual({ personal_properties: ['email'], suppression_list: 'privacy/suppressed.txt' });
    expect(planned.config.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(planned.config.hash).not.toBe(runConfigOf(DEFAULT_CONFIG).hash);
    // The config sits beside the definitions but is not one of them.
    expect(planned.cohorts.map((c) => c.id)).toEqual(['payers']);
  });

  it('missing, gives Plan the defaults', async () => {
    // Act
    const planned = await plan();
    // Assess
    expect(planned.config).toEqual(runConfigOf(DEFAULT_CONFIG));
    expect(planned.metrics.settings).toEqual(DEFAULT_CONFIG.metrics);
  });

  it('when invalid, fails Plan with ConfigError naming every problem at its path:line:col, before any query', async () => {
    // Prepare
    aws.put('cohorts-definitions', 'cohorts.config.yaml', 'checks:\n  freshness: {warn: 1, fial: 2}\n');
    // Act
    const planning = handlers.Plan?.(planEvent);
    // Assess
    await expect(planning).rejects.toMatchObject({ name: 'ConfigError', message: expect.stringContaining(`${CONFIG_URI}:2:`) });
    await expect(planning).rejects.toThrow(/unknown key "fial"/);
    expect(aws.athena).not.toHaveReceivedCommand(StartQueryExecutionCommand);
  });

  it('refuses a KPI metric that compares a personal property with a value, at its path:line:col, before any query', async () => {
    // Prepare
    aws.put(
      'cohorts-definitions',
      'cohorts.config.yaml',
      'privacy:\n  personal_properties: [email]\nmetrics:\n  activation: {event: login, within: 7d, where: {email: ann@example.com}}\n',
    );
    // Act
    const error = (await handlers.Plan?.(planEvent).catch((e: unknown) => e)) as Error;
    // Assess
    expect(error.name).toBe('ConfigError');
    expect(error.message).toMatch(
      new RegExp(`^${CONFIG_URI}:4:50: metrics.activation.where.email is personal data \\(privacy.personal_properties\\)`),
    );
    expect(aws.athena).not.toHaveReceivedCommand(StartQueryExecutionCommand);
  });

  it('refuses what the deployed functions cannot honour: a suppression list outside privacy/ and salt_env', async () => {
    // Prepare
    aws.put('cohorts-definitions', 'cohorts.config.yaml', 'privacy:\n  suppression_list: lists/optouts.txt\n  salt_env: COHORTS_SALT\n');
    // Act
    const error = (await handlers.Plan?.(planEvent).catch((e: unknown) => e)) as Error;
    // Assess
    expect(error.name).toBe('ConfigError');
    expect(error.message.split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^${CONFIG_URI}:2:3: privacy.suppression_list must be a key under privacy/ in the cloud`)),
      expect.stringMatching(new RegExp(`^${CONFIG_URI}:3:3: privacy.salt_env is not supported in the cloud`)),
    ]);
  });
});
