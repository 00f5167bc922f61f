import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { type DefinitionUpload, handleDefinitionUpload } from '../shared/uploads/definition-upload.ts';
import { stepHandler } from './commons/handler.ts';
import { metrics } from './commons/powertools.ts';
import { uploadPorts } from './commons/upload-ports.ts';

/**
 * An S3 `Object Created` event as EventBridge delivers it (the bucket's EventBridge
 * notifications). Only what the trigger reads; the rule matches the bucket and `incoming/`.
 * Keys of valid definitions (`incoming/<id>.yaml`, ids in snake_case) need no URL decoding.
 */
const objectCreatedSchema = z
  .looseObject({
    id: z.string().min(1),
    source: z.literal('aws.s3'),
    'detail-type': z.literal('Object Created'),
    detail: z.looseObject({
      bucket: z.looseObject({ name: z.string().min(1) }),
      object: z.looseObject({ key: z.string().min(1), size: z.number().int().nonnegative().optional() }),
    }),
  })
  .transform(
    (event): DefinitionUpload => ({
      key: event.detail.object.key,
      id: event.id,
      ...(event.detail.object.size === undefined ? {} : { size: event.detail.object.size }),
    }),
  );

/** A definition uploaded under `incoming/`: validate the catalog with it, then promote and refresh, or reject. */
export const handler = stepHandler({
  step: 'DefinitionUpload',
  schema: objectCreatedSchema,
  ports: uploadPorts,
  run: handleDefinitionUpload,
  measure: (outcome) => {
    if (outcome.status === 'accepted') metrics.addMetric('DefinitionsAccepted', MetricUnit.Count, 1);
    if (outcome.status === 'rejected') metrics.addMetric('DefinitionsRejected', MetricUnit.Count, 1);
  },
});
