import { z } from 'zod';
import { bucket, deploymentSchema, parseEnvironment } from '../../shared/cloud/environment.ts';

export { bucket, InvalidConfigError, parseEnvironment } from '../../shared/cloud/environment.ts';

const environmentSchema = deploymentSchema.extend({
  ALERTS_TOPIC_ARN: z.string().startsWith('arn:', 'must be an SNS topic ARN'),
  /** `chatbot` when an AWS Chatbot channel is subscribed: alerts then carry its custom-notification variant. */
  ALERTS_FORMAT: z.enum(['text', 'chatbot']).default('text'),
});

const exportsSchema = z.object({ EXPORTS_BUCKET: bucket });

/** The exports bucket, for the functions that rewrite or check exports (Plan's erasure, Finish's privacy check). */
export function readExportsBucket(env: NodeJS.ProcessEnv = process.env): string {
  return parseEnvironment(exportsSchema, env).EXPORTS_BUCKET;
}

const privacyKeySchema = z.object({ PRIVACY_KEY_SECRET_ARN: z.string().startsWith('arn:', 'must be a Secrets Manager secret ARN') });

/** The secret holding the privacy key, for the functions that erase or screen (Plan, Snapshot, Deliver, Finish). */
export function readPrivacyKeySecret(env: NodeJS.ProcessEnv = process.env): string {
  return parseEnvironment(privacyKeySchema, env).PRIVACY_KEY_SECRET_ARN;
}

/** What the handlers read from their environment (set by RefreshStateMachine). */
export type Config = z.output<typeof environmentSchema>;

/** Reads and checks the environment; every problem is named in one {@link InvalidConfigError}. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return parseEnvironment(environmentSchema, env);
}
