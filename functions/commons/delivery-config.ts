import { z } from 'zod';
import { InvalidConfigError } from './config.ts';

const schema = z.object({
  EXPORTS_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
  EVENT_BUS_NAME: z.string().min(1).max(1600),
});

/** What the Deliver handler reads besides the common configuration (set only on its function). */
export type DeliveryConfig = z.output<typeof schema>;

/** Reads and checks the Deliver function's own environment. */
export function readDeliveryConfig(env: NodeJS.ProcessEnv = process.env): DeliveryConfig {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new InvalidConfigError(result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
}
