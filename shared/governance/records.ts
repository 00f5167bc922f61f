import { z } from 'zod';
import type { Wire } from '../wire-types.ts';

/**
 * What the governance of definitions keeps (SPEC section 7): every accepted definition version,
 * every approval or rejection, and every refused or waiting change. Each is one JSON object
 * written once and never rewritten, in the state folder locally and in the definitions bucket in
 * the cloud (see catalog-store.ts for the keys).
 */

/** Who approved or rejected a change, when and why; as written to the catalog (also by hand, in the cloud): checked when read. */
export const approvalDecisionSchema = z.object({
  cohort: z.string(),
  /** The definition hash the decision is about: a later edit needs a decision of its own. */
  hash: z.string(),
  decision: z.enum(['approved', 'rejected']),
  by: z.string().min(1),
  note: z.string().min(1),
  at: z.iso.datetime({ offset: true }),
});

/** Who approved or rejected a change, when and why (see `approvalDecisionSchema`). */
export type ApprovalDecision = Wire<typeof approvalDecisionSchema>;

/** How a definition version came to be accepted. */
export type AcceptedChange = 'added' | 'changed' | 'deprecated' | 'removed';

/** One accepted definition version of a cohort: the catalog entry a snapshot manifest points at. */
export interface DefinitionVersion {
  readonly cohort: string;
  /** 1, 2, ... per cohort, in the order the versions were accepted. */
  readonly version: number;
  readonly change: AcceptedChange;
  /** sha256 of the definition's canonical form; null for a removal. */
  readonly hash: string | null;
  /** The file it came from; null for a removal. */
  readonly path: string | null;
  /** The definition's YAML exactly as accepted, so a later refresh can fall back to it; null for a removal. */
  readonly text: string | null;
  /**
   * The named actions the definition used, as their files read when it was accepted (absent when
   * it uses none), so the version reads the same after an action changes.
   */
  readonly actions?: readonly { readonly path: string; readonly text: string }[];
  readonly tier: string | null;
  readonly cadence: string | null;
  readonly change_reason: string | null;
  /** Who wrote the change, when known (`--author`, git, or the execution input). */
  readonly author: string | null;
  readonly accepted_at: string;
  /** The refresh that accepted it. */
  readonly run_id: string;
  /** The approval it needed, if it needed one. */
  readonly approval: ApprovalDecision | null;
}

/** A change a refresh refused, or one that waits for an approval: kept once per cohort and hash. */
export interface GuardrailRecord {
  readonly cohort: string;
  readonly outcome: 'refused' | 'pending';
  /** The refused or waiting definition's hash (null for a removed file). */
  readonly hash: string | null;
  /** Why, in sentences a person understands. */
  readonly reasons: readonly string[];
  readonly author: string | null;
  readonly at: string;
  readonly run_id: string;
}
