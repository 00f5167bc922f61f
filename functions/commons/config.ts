import { z } from 'zod';

/** An environment variable the construct should have set is missing or malformed. */
export class InvalidConfigError extends Error {
  override readonly name = 'InvalidConfigError';
}

/** An S3 bucket name in an environment variable. */
export const bucket = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name');

const environmentSchema = z.object({
  DEFINITIONS_BUCKET: bucket,
  SNAPSHOTS_BUCKET: bucket,
  EVENT_LAKE_BUCKET: bucket,
  EVENT_LAKE_PREFIX: z.string().default(''),
  ATHENA_RESULTS_BUCKET: bucket,
  ATHENA_WORKGROUP: z.string().min(1),
  GLUE_DATABASE: z.string().regex(/^[a-z][a-z0-9_]{0,254}$/, 'must be a Glue database name'),
  ALERTS_TOPIC_ARN: z.string().startsWith('arn:', 'must be an SNS topic ARN'),
  /** `chatbot` when an AWS Chatbot channel is subscribed: alerts then carry its custom-notification variant. */
  ALERTS_FORMAT: z.enum(['text', 'chatbot']).default('text'),
  /** How long a step waits for an Athena query: the function's timeout less a margin (set per function). */
  ATHENA_MAX_WAIT_MS: z.coerce.number().int().min(1_000).optional(),
});

/** What the handlers read from their environment (set by RefreshStateMachine). */
export type Config = z.output<typeof environmentSchema>;

/** Reads and checks the environment; every problem is named in one {@link InvalidConfigError}. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return parseEnvironment(environmentSchema, env);
}

/** Checks environment variables against a schema; every problem is named in one {@link InvalidConfigError}. */
export function parseEnvironment<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new InvalidConfigError(result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
}
