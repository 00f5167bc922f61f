import { z } from 'zod';
import { issueLines } from '../language/zod-issues.ts';

/** An environment variable (or stack output) the deployment should have given is missing or malformed. */
export class InvalidConfigError extends Error {
  override readonly name = 'InvalidConfigError';
}

/**
 * The product's service name: the Powertools service of the functions unless the construct names
 * it (the refresh uses its state machine's name), and the default name of the state machine and
 * the Athena workgroup.
 */
export const SERVICE_NAME = 'cohort-refresh';

/** An S3 bucket name in an environment variable. */
export const bucket = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name');

/** A Step Functions state machine ARN. */
export const stateMachineArn = z
  .string()
  .regex(/^arn:[a-z-]+:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]+$/, 'must be a state machine ARN');

/**
 * Every variable the constructs (infra/) set on the product's functions and the handlers
 * (functions/) read: the one contract between them. Each function gets the subset it needs:
 * {@link deploymentEnvironment} writes it, a `pick` of this schema reads it. The Powertools
 * variables (`POWERTOOLS_*`) are Powertools' own and not part of it.
 */
export const environmentSchema = z.object({
  DEFINITIONS_BUCKET: bucket,
  SNAPSHOTS_BUCKET: bucket,
  EVENT_LAKE_BUCKET: bucket,
  EVENT_LAKE_PREFIX: z.string().default(''),
  ATHENA_RESULTS_BUCKET: bucket,
  ATHENA_WORKGROUP: z.string().min(1),
  GLUE_DATABASE: z.string().regex(/^[a-z][a-z0-9_]{0,254}$/, 'must be a Glue database name'),
  /** How long a caller waits for an Athena query: a Lambda step's timeout less a margin. @default - the runner's */
  ATHENA_MAX_WAIT_MS: z.coerce.number().int().min(1_000).optional(),
  ALERTS_TOPIC_ARN: z.string().startsWith('arn:', 'must be an SNS topic ARN'),
  /** `chatbot` when an AWS Chatbot channel is subscribed: alerts then carry its custom-notification variant. */
  ALERTS_FORMAT: z.enum(['text', 'chatbot']).default('text'),
  EXPORTS_BUCKET: bucket,
  EVENT_BUS_NAME: z.string().min(1).max(1600),
  PRIVACY_KEY_SECRET_ARN: z.string().startsWith('arn:', 'must be a Secrets Manager secret ARN'),
  STATE_MACHINE_ARN: stateMachineArn,
  SLACK_WEBHOOK_SECRET: z.string().min(1, 'must name the webhook secret (name or ARN)'),
});

/** The name of a variable of the contract. */
export type EnvironmentVariable = keyof typeof environmentSchema.shape;

/** Variables as a construct writes them: names of the contract, values as text (CDK tokens included). */
export type EnvironmentValues = { readonly [K in EnvironmentVariable]?: string };

/**
 * Where a deployment keeps what a refresh reads and writes: the names the Lambda steps get in
 * their environment (set by RefreshStateMachine), which `cohorts ... --cloud` reads too.
 */
export const deploymentSchema = environmentSchema.pick({
  DEFINITIONS_BUCKET: true,
  SNAPSHOTS_BUCKET: true,
  EVENT_LAKE_BUCKET: true,
  EVENT_LAKE_PREFIX: true,
  ATHENA_RESULTS_BUCKET: true,
  ATHENA_WORKGROUP: true,
  GLUE_DATABASE: true,
  ATHENA_MAX_WAIT_MS: true,
});

/** A deployment's buckets, lake, workgroup and database. */
export type Deployment = z.output<typeof deploymentSchema>;

/** The Powertools settings of a function: its service and, for the functions that publish metrics, their namespace. */
export interface PowertoolsService {
  readonly name: string;
  readonly metricsNamespace?: string;
}

/**
 * The environment of one of the product's functions as its construct writes it: the variables of
 * the contract it reads, then Powertools' service name, metrics namespace (when given) and log
 * level INFO.
 */
export function deploymentEnvironment(service: PowertoolsService, variables: EnvironmentValues): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(variables)) if (value !== undefined) environment[name] = value;
  return {
    ...environment,
    POWERTOOLS_SERVICE_NAME: service.name,
    ...(service.metricsNamespace === undefined ? {} : { POWERTOOLS_METRICS_NAMESPACE: service.metricsNamespace }),
    POWERTOOLS_LOG_LEVEL: 'INFO',
  };
}

/** Checks environment variables against a schema; every problem is named in one {@link InvalidConfigError}. */
export function parseEnvironment<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new InvalidConfigError(issueLines(result.error).join('; '));
}
