import { z } from 'zod';
import { bucket, parseEnvironment } from './config.ts';

const busSchema = z.object({ EVENT_BUS_NAME: z.string().min(1).max(1600) });
const schema = z.object({ EXPORTS_BUCKET: bucket, ...busSchema.shape });

/** What the Deliver handler reads besides the common configuration (set only on its function). */
export type DeliveryConfig = z.output<typeof schema>;

/** Reads and checks the bus events go to (Plan's `Definition Accepted`, Deliver's cohort events). */
export function readEventBusConfig(env: NodeJS.ProcessEnv = process.env): z.output<typeof busSchema> {
  return parseEnvironment(busSchema, env);
}

/** Reads and checks the Deliver function's own environment. */
export function readDeliveryConfig(env: NodeJS.ProcessEnv = process.env): DeliveryConfig {
  return parseEnvironment(schema, env);
}
