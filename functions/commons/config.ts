import type { z } from 'zod';
import { deploymentSchema, environmentSchema, parseEnvironment } from '../../shared/cloud/environment.ts';

export { InvalidConfigError } from '../../shared/cloud/environment.ts';

/**
 * What each handler reads from its environment: picks of the one contract
 * (shared/cloud/environment.ts) that the constructs write with deploymentEnvironment.
 */
const stepSchema = deploymentSchema.extend(environmentSchema.pick({ ALERTS_TOPIC_ARN: true, ALERTS_FORMAT: true }).shape);
const exportsSchema = environmentSchema.pick({ EXPORTS_BUCKET: true });
const privacyKeySchema = environmentSchema.pick({ PRIVACY_KEY_SECRET_ARN: true });
const busSchema = environmentSchema.pick({ EVENT_BUS_NAME: true });
const deliverySchema = environmentSchema.pick({ EXPORTS_BUCKET: true, EVENT_BUS_NAME: true });
const uploadSchema = environmentSchema.pick({
  DEFINITIONS_BUCKET: true,
  STATE_MACHINE_ARN: true,
  ALERTS_TOPIC_ARN: true,
  EVENT_BUS_NAME: true,
});
const slackSchema = environmentSchema.pick({ SLACK_WEBHOOK_SECRET: true });
const stateMachineSchema = environmentSchema.pick({ STATE_MACHINE_ARN: true });

/** What every step of the refresh reads (set by RefreshStateMachine). */
export type Config = z.output<typeof stepSchema>;

/** Reads and checks the environment; every problem is named in one InvalidConfigError. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return parseEnvironment(stepSchema, env);
}

/** The exports bucket, for the functions that rewrite or check exports (Plan's erasure, Finish's privacy check). */
export function readExportsBucket(env: NodeJS.ProcessEnv = process.env): string {
  return parseEnvironment(exportsSchema, env).EXPORTS_BUCKET;
}

/** The secret holding the privacy key, for the functions that erase or screen (Plan, Snapshot, Deliver, Finish). */
export function readPrivacyKeySecret(env: NodeJS.ProcessEnv = process.env): string {
  return parseEnvironment(privacyKeySchema, env).PRIVACY_KEY_SECRET_ARN;
}

/** The bus events go to (Plan's `Definition Accepted`, Deliver's cohort events). */
export function readEventBusConfig(env: NodeJS.ProcessEnv = process.env): z.output<typeof busSchema> {
  return parseEnvironment(busSchema, env);
}

/** What the Deliver handler reads besides the common configuration (set only on its function). */
export type DeliveryConfig = z.output<typeof deliverySchema>;

/** Reads and checks the Deliver function's own environment. */
export function readDeliveryConfig(env: NodeJS.ProcessEnv = process.env): DeliveryConfig {
  return parseEnvironment(deliverySchema, env);
}

/** What the upload handler reads from its environment (set by DefinitionUploads). */
export type UploadConfig = z.output<typeof uploadSchema>;

/** Reads and checks the upload function's environment. */
export function readUploadConfig(env: NodeJS.ProcessEnv = process.env): UploadConfig {
  return parseEnvironment(uploadSchema, env);
}

/** Reads and checks the Slack webhook function's environment (set by SlackAlerts). */
export function readSlackConfig(env: NodeJS.ProcessEnv = process.env): z.output<typeof slackSchema> {
  return parseEnvironment(slackSchema, env);
}

/** The refresh state machine, whose running executions Plan lists (no overlap of a cadence's runs). */
export function readStateMachineArn(env: NodeJS.ProcessEnv = process.env): string {
  return parseEnvironment(stateMachineSchema, env).STATE_MACHINE_ARN;
}
