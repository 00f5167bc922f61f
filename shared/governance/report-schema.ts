import { z } from 'zod';
import type { CohortGovernance } from './govern.ts';
import { approvalDecisionSchema } from './records.ts';

/** What the Plan step decided about definition changes, as it travels in the plan to Finish's alert. */
export interface GovernanceReport {
  /** Every cohort that is not unchanged. */
  readonly changes: readonly CohortGovernance[];
  /** Cohorts whose refusal or wait this run recorded first: their owners are alerted now. */
  readonly alerted: readonly string[];
}

const impactSchema = z.object({ after: z.number(), before: z.number().nullable(), added: z.number(), removed: z.number() });

/** The governance report as it crosses Step Functions. */
export const governanceReportSchema: z.ZodType<GovernanceReport> = z.object({
  changes: z.array(
    z.object({
      cohort: z.string(),
      kind: z.enum(['added', 'changed', 'deprecated', 'removed', 'unchanged']),
      fields: z.array(z.string()),
      hash: z.string().nullable(),
      published: z.object({ version: z.number().int(), hash: z.string().nullable() }).nullable(),
      impact: impactSchema.nullable(),
      dependants: z.array(z.string()),
      verdict: z.enum(['accepted', 'refused', 'pending']),
      reasons: z.array(z.string()),
      needs_approval: z.boolean(),
      decision: approvalDecisionSchema.nullable(),
    }),
  ),
  alerted: z.array(z.string()),
});
