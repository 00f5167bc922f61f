import { z } from 'zod';
import { EventsPublisher } from '../../shared/cloud/events-publisher.ts';
import { S3BlobStore } from '../../shared/cloud/s3-blob-store.ts';
import { SfnRefreshStarter } from '../../shared/cloud/sfn-refresh-starter.ts';
import { SnsNotifier } from '../../shared/cloud/sns-notifier.ts';
import type { DefinitionUploadPorts } from '../../shared/uploads/definition-upload.ts';
import { eventBridge, s3, sns, stepFunctions } from './clients.ts';
import { bucket, parseEnvironment, stateMachineArn } from '../../shared/cloud/environment.ts';

const schema = z.object({
  DEFINITIONS_BUCKET: bucket,
  STATE_MACHINE_ARN: stateMachineArn,
  ALERTS_TOPIC_ARN: z.string().startsWith('arn:', 'must be an SNS topic ARN'),
  EVENT_BUS_NAME: z.string().min(1).max(1600),
});

/** What the upload handler reads from its environment (set by DefinitionUploads). */
export type UploadConfig = z.output<typeof schema>;

/** Reads and checks the upload function's environment; every problem named in one InvalidConfigError. */
export function readUploadConfig(env: NodeJS.ProcessEnv = process.env): UploadConfig {
  return parseEnvironment(schema, env);
}

let built: DefinitionUploadPorts | undefined;

/** The upload trigger's cloud ports, built once per container: every one of them exists. */
export function uploadPorts(): DefinitionUploadPorts {
  if (built) return built;
  const config = readUploadConfig();
  built = {
    definitions: new S3BlobStore(s3, { bucket: config.DEFINITIONS_BUCKET }),
    refresh: new SfnRefreshStarter(stepFunctions, config.STATE_MACHINE_ARN),
    notifier: new SnsNotifier(sns, config.ALERTS_TOPIC_ARN),
    events: new EventsPublisher(eventBridge, config.EVENT_BUS_NAME),
  };
  return built;
}
