import { z } from 'zod';
import type { Describes } from '../wire-types.ts';
import type { CheckResult } from '../store/manifest.ts';
import type { SourceCheckGroup, SourceCheckReport } from './source-checks.ts';

/**
 * The check reports as they cross Step Functions (in the plan and in each Snapshot outcome).
 * An assertion below holds them equal to `CheckResult` (store/manifest.ts) and
 * `SourceCheckReport` (source-checks.ts), so a field added on either side fails tsc.
 */

/** One check's result (`CheckResult`). */
export const checkResultSchema = z.object({
  name: z.string(),
  status: z.enum(['pass', 'warn', 'fail']),
  observed: z.union([z.number(), z.string(), z.null()]),
  threshold: z.union([z.number(), z.string(), z.null()]),
  message: z.string(),
});

/** The checks of one source (`SourceCheckGroup`). */
export const sourceCheckGroupSchema = z.object({
  source: z.string(),
  checks: z.array(checkResultSchema),
  status: checkResultSchema.shape.status,
});

/** Every source check of one refresh (`SourceCheckReport`). */
export const sourceCheckReportSchema = z.object({
  as_of: z.string(),
  days: z.object({ from: z.string(), last_day: z.string() }),
  sources: z.array(sourceCheckGroupSchema),
  lake: z.array(checkResultSchema),
  status: checkResultSchema.shape.status,
});

// The schemas describe the reports' types exactly (tsc fails here when a field is added on either side).
const exact: [
  Describes<typeof checkResultSchema, CheckResult>,
  Describes<typeof sourceCheckGroupSchema, SourceCheckGroup>,
  Describes<typeof sourceCheckReportSchema, SourceCheckReport>,
] = [true, true, true];
void exact;
