import { z } from 'zod';
import type { Describes, Wire } from '../wire-types.ts';
import type { CohortGovernance } from './govern.ts';
import { approvalDecisionSchema } from './records.ts';

const impactSchema = z.object({ after: z.number(), before: z.number().nullable(), added: z.number(), removed: z.number() });

/** The governance of one cohort's change as it crosses Step Functions (`CohortGovernance`). */
const cohortGovernanceSchema = z.object({
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
});

// CohortGovernance is composed in govern.ts of what the guardrails, the comparison and the impact
// measure say; the schema must describe it exactly (tsc fails here when a field is added on either side).
const exact: Describes<typeof cohortGovernanceSchema, CohortGovernance> = true;
void exact;

/** What the Plan step decided about definition changes, as it travels in the plan to Finish's alert. */
export const governanceReportSchema = z.object({
  /** Every cohort that is not unchanged. */
  changes: z.array(cohortGovernanceSchema),
  /** Cohorts whose refusal or wait this run recorded first: their owners are alerted now. */
  alerted: z.array(z.string()),
});

/** What the Plan step decided about definition changes (see `governanceReportSchema`). */
export type GovernanceReport = Wire<typeof governanceReportSchema>;
