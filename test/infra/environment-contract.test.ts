import { App, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import {
  readConfig,
  readDeliveryConfig,
  readEventBusConfig,
  readExportsBucket,
  readPrivacyKeySecret,
  readSlackConfig,
  readUploadConfig,
} from '../../functions/commons/config.ts';
import { CohortRefresh } from '../../infra/cohort-refresh.ts';
import { deploymentEnvironment, type EnvironmentVariable } from '../../shared/cloud/environment.ts';
import { resourceOf, templateOf } from './support.ts';

/** What a deployment would put where the template holds a reference (a bucket's name, a topic's ARN...). */
const DEPLOYED: Readonly<Record<EnvironmentVariable, string>> = {
  DEFINITIONS_BUCKET: 'stack-definitions-1a2b',
  SNAPSHOTS_BUCKET: 'stack-snapshots-1a2b',
  EVENT_LAKE_BUCKET: 'stack-lake-1a2b',
  EVENT_LAKE_PREFIX: '',
  ATHENA_RESULTS_BUCKET: 'stack-results-1a2b',
  ATHENA_WORKGROUP: 'cohort-refresh',
  GLUE_DATABASE: 'cohort_refresh',
  ATHENA_MAX_WAIT_MS: '60000',
  ALERTS_TOPIC_ARN: 'arn:aws:sns:eu-central-1:123456789012:alerts',
  ALERTS_FORMAT: 'text',
  EXPORTS_BUCKET: 'stack-exports-1a2b',
  EVENT_BUS_NAME: 'default',
  PRIVACY_KEY_SECRET_ARN: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:privacy-AbCdEf',
  STATE_MACHINE_ARN: 'arn:aws:states:eu-central-1:123456789012:stateMachine:cohort-refresh',
  SLACK_WEBHOOK_SECRET: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:hook-AbCdEf',
};

/** A function's environment as deployed: literal values as synthesized, references as {@link DEPLOYED}. */
function deployedEnvironment(template: Template, fn: lambda.Function): NodeJS.ProcessEnv {
  const variables = (resourceOf(template, fn).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  return Object.fromEntries(
    Object.entries(variables).map(([name, value]) => [name, typeof value === 'string' ? value : DEPLOYED[name as EnvironmentVariable]]),
  );
}

describe('the environment contract', () => {
  // GIVEN the whole product, with a Chatbot channel and a webhook so every function exists
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'ContractStack');
  const cohorts = new CohortRefresh(stack, 'Cohorts', {
    eventLakePrefix: 'raw/',
    slackChannel: { workspaceId: 'T0123ABCD', channelId: 'C0456EFGH' },
    slackWebhookSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Hook', 'cohort-refresh/slack'),
  });
  const template = templateOf(stack);
  const { plan, snapshot, deliver, finish, alertFailure } = cohorts.refresh.functions;
  const readers: [string, lambda.Function | undefined, ((env: NodeJS.ProcessEnv) => unknown)[]][] = [
    ['Plan', plan, [readConfig, readExportsBucket, readEventBusConfig, readPrivacyKeySecret]],
    ['Snapshot', snapshot, [readConfig, readPrivacyKeySecret]],
    ['Deliver', deliver, [readConfig, readDeliveryConfig, readPrivacyKeySecret]],
    ['Finish', finish, [readConfig, readExportsBucket, readPrivacyKeySecret]],
    ['AlertFailure', alertFailure, [readConfig]],
    ['DefinitionUpload', cohorts.uploads?.function, [readUploadConfig]],
    ['SlackAlerts', cohorts.foundation.slackAlerts?.webhookFunction, [readSlackConfig]],
  ];

  it.each(readers)('gives the %s function everything its handler reads', (_, fn, read) => {
    expect(fn).toBeDefined();
    const env = deployedEnvironment(template, fn as lambda.Function);
    for (const reader of read) expect(() => reader(env)).not.toThrow();
  });

  it('carries the literal values the construct chose through to the handler', () => {
    const config = readConfig(deployedEnvironment(template, plan));

    expect(config).toMatchObject({ EVENT_LAKE_PREFIX: 'raw/', ALERTS_FORMAT: 'chatbot', GLUE_DATABASE: 'cohort_refresh' });
    expect(config.ATHENA_MAX_WAIT_MS).toBeGreaterThan(0);
  });

  it('writes the Powertools service after the variables, leaving out what is absent', () => {
    expect(deploymentEnvironment({ name: 'svc' }, { EXPORTS_BUCKET: 'exports', EVENT_BUS_NAME: undefined })).toEqual({
      EXPORTS_BUCKET: 'exports',
      POWERTOOLS_SERVICE_NAME: 'svc',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
    expect(deploymentEnvironment({ name: 'svc', metricsNamespace: 'Ns' }, {})).toMatchObject({ POWERTOOLS_METRICS_NAMESPACE: 'Ns' });
  });
});
