import { EventsPublisher } from '../../shared/cloud/events-publisher.ts';
import { S3BlobStore } from '../../shared/cloud/s3-blob-store.ts';
import { SfnRefreshStarter } from '../../shared/cloud/sfn-refresh-starter.ts';
import { SnsNotifier } from '../../shared/cloud/sns-notifier.ts';
import type { DefinitionUploadPorts } from '../../shared/uploads/definition-upload.ts';
import { eventBridge, s3, sns, stepFunctions } from './clients.ts';
import { readUploadConfig } from './config.ts';
import { once } from './once.ts';

/** The upload trigger's cloud ports, built once per container: every one of them exists. */
export const uploadPorts = once((): DefinitionUploadPorts => {
  const config = readUploadConfig();
  return {
    definitions: new S3BlobStore(s3, { bucket: config.DEFINITIONS_BUCKET }),
    refresh: new SfnRefreshStarter(stepFunctions, config.STATE_MACHINE_ARN),
    notifier: new SnsNotifier(sns, config.ALERTS_TOPIC_ARN),
    events: new EventsPublisher(eventBridge, config.EVENT_BUS_NAME),
  };
});
