import { z } from 'zod';
import { issueLines } from '../language/zod-issues.ts';

/** An environment variable (or stack output) the deployment should have given is missing or malformed. */
export class InvalidConfigError extends Error {
  override readonly name = 'InvalidConfigError';
}

/** An S3 bucket name in an environment variable. */
export const bucket = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name');

/** A Step Functions state machine ARN. */
export const stateMachineArn = z
  .string()
  .regex(/^arn:[a-z-]+:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]+$/, 'must be a state machine ARN');

/**
 * Where a deployment keeps what a refresh reads and writes: the names the Lambda steps get in
 * their environment (set by RefreshStateMachine), which `cohorts ... --cloud` reads too.
 */
export const deploymentSchema = z.object({
  DEFINITIONS_BUCKET: bucket,
  SNAPSHOTS_BUCKET: bucket,
  EVENT_LAKE_BUCKET: bucket,
  EVENT_LAKE_PREFIX: z.string().default(''),
  ATHENA_RESULTS_BUCKET: bucket,
  ATHENA_WORKGROUP: z.string().min(1),
  GLUE_DATABASE: z.string().regex(/^[a-z][a-z0-9_]{0,254}$/, 'must be a Glue database name'),
  /** How long a caller waits for an Athena query: a Lambda step's timeout less a margin. @default - the runner's */
  ATHENA_MAX_WAIT_MS: z.coerce.number().int().min(1_000).optional(),
});

/** A deployment's buckets, lake, workgroup and database. */
export type Deployment = z.output<typeof deploymentSchema>;

/** Checks environment variables against a schema; every problem is named in one {@link InvalidConfigError}. */
export function parseEnvironment<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new InvalidConfigError(issueLines(result.error).join('; '));
}
