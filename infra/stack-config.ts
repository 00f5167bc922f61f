import { Duration } from 'aws-cdk-lib';
import type { Node } from 'constructs';

/** A context value the app cannot use; the message names the key and shows the value. */
export class InvalidContextError extends Error {
  override name = 'InvalidContextError';
}

/** Settings of {@link CohortRefreshStack} read from CDK context (`cdk.json` or `-c key=value`). */
export interface StackConfig {
  /** `alertEmails`: comma-separated string or JSON array. */
  readonly alertEmails: string[];
  /** `lakeBucketName`: import this bucket as the event lake instead of creating one. */
  readonly lakeBucketName?: string;
  /** `lakePrefix`: key prefix of the lake in its bucket. */
  readonly lakePrefix?: string;
  /** `retentionDays`: days noncurrent object versions are kept. */
  readonly noncurrentVersionRetention?: Duration;
  /**
   * `schedules`: scheduler expressions by cadence (a JSON object), e.g. `{"daily": "cron(30 4 * * ? *)"}`;
   * `realtimeSchedule` (e.g. `rate(2 minutes)`) sets the realtime one alone and wins over `schedules.realtime`.
   */
  readonly schedules?: Readonly<Record<string, string>>;
  /** `dashboard`: false leaves the CloudWatch dashboard out (`true`/`false`, text or boolean). */
  readonly dashboard?: boolean;
  /** `slackWorkspaceId` and `slackChannelId`, given together: the AWS Chatbot channel of the alerts. */
  readonly slackChannel?: { readonly workspaceId: string; readonly channelId: string };
  /** `slackWebhookSecret`: name or ARN of the Secrets Manager secret holding a Slack incoming-webhook URL. */
  readonly slackWebhookSecret?: string;
}

/** Reads and checks the stack's context values; absent or empty values mean "use the default". */
export function readStackConfig(node: Node): StackConfig {
  const emails = node.tryGetContext('alertEmails') as unknown;
  const bucket = optionalString(node, 'lakeBucketName');
  const prefix = optionalString(node, 'lakePrefix');
  const days = node.tryGetContext('retentionDays') as unknown;
  const given = parseSchedules('schedules', node.tryGetContext('schedules') as unknown);
  const realtime = optionalString(node, 'realtimeSchedule');
  const schedules = realtime === undefined ? given : { ...given, realtime };
  const dashboard = optionalBoolean(node, 'dashboard');
  const slackChannel = parseSlackChannel(node);
  const slackWebhookSecret = optionalString(node, 'slackWebhookSecret');
  return {
    alertEmails: parseList('alertEmails', emails),
    ...(bucket === undefined ? {} : { lakeBucketName: bucket }),
    ...(prefix === undefined ? {} : { lakePrefix: prefix }),
    ...(isAbsent(days) ? {} : { noncurrentVersionRetention: Duration.days(parseDays('retentionDays', days)) }),
    ...(schedules === undefined ? {} : { schedules }),
    ...(dashboard === undefined ? {} : { dashboard }),
    ...(slackChannel === undefined ? {} : { slackChannel }),
    ...(slackWebhookSecret === undefined ? {} : { slackWebhookSecret }),
  };
}

/** An object of cadence -> expression, given in cdk.json or as a JSON string with `-c`. */
function parseSchedules(key: string, value: unknown): Record<string, string> | undefined {
  if (isAbsent(value)) return undefined;
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new InvalidContextError(`context ${key} must be a JSON object of cadence to expression, got ${JSON.stringify(value)}`);
    }
  }
  if (
    parsed === null ||
    typeof parsed !== 'object' ||
    Array.isArray(parsed) ||
    !Object.values(parsed).every((v) => typeof v === 'string')
  ) {
    throw new InvalidContextError(`context ${key} must be an object of cadence to expression, got ${JSON.stringify(value)}`);
  }
  return parsed as Record<string, string>;
}

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

function optionalString(node: Node, key: string): string | undefined {
  const value = node.tryGetContext(key) as unknown;
  if (isAbsent(value)) return undefined;
  if (typeof value !== 'string') throw new InvalidContextError(`context ${key} must be a string, got ${JSON.stringify(value)}`);
  return value.trim();
}

/** Both ids or neither: one alone is a mistake worth naming. */
function parseSlackChannel(node: Node): StackConfig['slackChannel'] {
  const workspaceId = optionalString(node, 'slackWorkspaceId');
  const channelId = optionalString(node, 'slackChannelId');
  if (workspaceId === undefined && channelId === undefined) return undefined;
  if (workspaceId === undefined || channelId === undefined) {
    const [given, missing] = workspaceId === undefined ? ['slackChannelId', 'slackWorkspaceId'] : ['slackWorkspaceId', 'slackChannelId'];
    throw new InvalidContextError(
      `context ${given} needs ${missing} too (the Slack channel of AWS Chatbot), got only ${given}=${JSON.stringify(workspaceId ?? channelId)}`,
    );
  }
  return { workspaceId, channelId };
}

function optionalBoolean(node: Node, key: string): boolean | undefined {
  const value = node.tryGetContext(key) as unknown;
  if (isAbsent(value)) return undefined;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new InvalidContextError(`context ${key} must be true or false, got ${JSON.stringify(value)}`);
}

function parseList(key: string, value: unknown): string[] {
  if (isAbsent(value)) return [];
  const items = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(items) || !items.every((item) => typeof item === 'string')) {
    throw new InvalidContextError(`context ${key} must be a comma-separated string or a list of strings, got ${JSON.stringify(value)}`);
  }
  return items.map((item) => item.trim()).filter((item) => item !== '');
}

function parseDays(key: string, value: unknown): number {
  const days = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof days !== 'number' || !Number.isSafeInteger(days) || days < 1) {
    throw new InvalidContextError(`context ${key} must be a whole number of days, at least 1, got ${JSON.stringify(value)}`);
  }
  return days;
}
