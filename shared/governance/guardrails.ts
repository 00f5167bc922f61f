import type { GuardrailSettings } from '../config/config.ts';
import type { CohortChange } from './compare.ts';
import type { MemberImpact } from './impact.ts';
import type { ApprovalDecision } from './records.ts';

/**
 * The guardrails of SPEC section 7, on one cohort's change against its published definition:
 * removing a core cohort's file, or changing a core cohort's rule without a new change_reason,
 * is refused; a core cohort's tier or cadence change, or a rule change that moves its size by
 * more than `guardrails.approval_size_change_pct`, waits for an approval. Retiring a cohort with
 * `deprecated` is always accepted. Cohorts that were not core when published have no guardrail.
 */

/** What happens to a change. */
export type Verdict = 'accepted' | 'refused' | 'pending';

/** The verdict on one change and why. */
export interface GuardrailVerdict {
  readonly verdict: Verdict;
  /** Sentences saying why it was refused, what it waits for, or what its approval was for. */
  readonly reasons: readonly string[];
  /** Whether the change needed an approval (whether or not it has one). */
  readonly needs_approval: boolean;
  /** The decision that settled it, when one did. */
  readonly decision: ApprovalDecision | null;
}

/** What a change is judged on before any data is read. */
export interface StaticJudgement {
  /** Reasons to refuse outright. */
  readonly refusals: readonly string[];
  /** Reasons it needs an approval whatever the data says. */
  readonly approvals: readonly string[];
  /** Whether its size change must be measured to know if it needs an approval. */
  readonly measure_size: boolean;
}

const quoted = (text: string | undefined) => (text === undefined ? 'none' : JSON.stringify(text));

/** The part of the guardrails that needs no data. */
export function judgeStatically(change: CohortChange): StaticJudgement {
  const { before, after } = change;
  const none: StaticJudgement = { refusals: [], approvals: [], measure_size: false };
  if (before?.tier !== 'core') return none;
  if (change.kind === 'removed') {
    return {
      ...none,
      refusals: [
        `removing the file of core cohort "${change.cohort}" is refused: retire it with \`deprecated: {reason: ..., replaced_by: ...}\` instead`,
      ],
    };
  }
  if (!after || change.kind !== 'changed') return none;
  const refusals: string[] = [];
  const approvals: string[] = [];
  const ruleChanged = change.fields.includes('rule');
  if (ruleChanged && (after.change_reason === undefined || after.change_reason === before.change_reason)) {
    refusals.push(
      `changing the rule of core cohort "${change.cohort}" needs a new change_reason (the published one is ${quoted(before.change_reason)}): say why in \`change_reason:\``,
    );
  }
  if (change.fields.includes('tier')) approvals.push(`its tier changes from ${before.tier} to ${after.tier}`);
  if (change.fields.includes('cadence')) approvals.push(`its cadence changes from ${before.cadence} to ${after.cadence}`);
  return { refusals, approvals, measure_size: ruleChanged && refusals.length === 0 };
}

/** The size move of a rule change in percent of the published size (Infinity from an empty cohort). */
export function sizeChangePct(impact: MemberImpact): number {
  const before = impact.before ?? 0;
  if (before === 0) return impact.after === 0 ? 0 : Number.POSITIVE_INFINITY;
  return ((impact.after - before) / before) * 100;
}

const pctText = (pct: number) => (Number.isFinite(pct) ? `${pct >= 0 ? '+' : ''}${Math.round(pct * 10) / 10}%` : 'from none');

/**
 * The verdict on a change: refused, pending (needs an approval it does not have), or accepted.
 * `impact` is the measured effect of the change on the current data (needed only when
 * `judgeStatically` says to measure; without it such a change waits, since its size move is unknown).
 */
export function judgeChange(
  change: CohortChange,
  context: { readonly impact?: MemberImpact; readonly decision?: ApprovalDecision; readonly settings: GuardrailSettings },
): GuardrailVerdict {
  const judged = judgeStatically(change);
  if (judged.refusals.length > 0) return { verdict: 'refused', reasons: judged.refusals, needs_approval: false, decision: null };
  const approvals = [...judged.approvals];
  if (judged.measure_size) {
    const limit = context.settings.approval_size_change_pct;
    if (!context.impact) {
      approvals.push('its rule changes and the size move could not be measured');
    } else {
      const pct = sizeChangePct(context.impact);
      if (Math.abs(pct) > limit) {
        approvals.push(
          `its new rule moves its size ${pctText(pct)} (${context.impact.before ?? 0} -> ${context.impact.after} members on the current data), ` +
            `more than guardrails.approval_size_change_pct (${limit}%)`,
        );
      }
    }
  }
  if (approvals.length === 0) return { verdict: 'accepted', reasons: [], needs_approval: false, decision: null };
  const why = `core cohort "${change.cohort}" needs an approval: ${approvals.join('; ')}`;
  const decision = context.decision;
  if (!decision) return { verdict: 'pending', reasons: [why], needs_approval: true, decision: null };
  const said = `${decision.decision} by ${decision.by} at ${decision.at}: ${decision.note}`;
  if (decision.decision === 'rejected') return { verdict: 'refused', reasons: [why, said], needs_approval: true, decision };
  return { verdict: 'accepted', reasons: [why, said], needs_approval: true, decision };
}
