import { createHash } from 'node:crypto';
import type { CohortDefinition, Sequence } from '../language/ast.ts';
import { leaves } from '../language/condition-leaves.ts';
import { type InstantRange, leafUses, type MeasureUse, windowRange } from './measures.ts';

/**
 * Sequences over tiles (issue 16): tiles keep no order of events, so a sequence reads the raw
 * events of its steps over its whole window (each step a use read raw, `MeasureUse.step`), and is
 * computed from them as the full query computes it (compiler/sequence-sql.ts). Its holders become
 * parts of their own use number, so the one GROUP BY person adds them up with the rest.
 */

/** One sequence of a refresh at its as-of instant. */
export interface SequenceUse {
  /** `s` and 16 hex digits of the sha256 of `key`: named in lineage as a measure read raw. */
  readonly id: string;
  /** Its steps' measures and its gap, as JSON. */
  readonly key: string;
  /** One use per step, in order, each read raw over the sequence's window. */
  readonly steps: readonly MeasureUse[];
  readonly maxGapMs?: number;
  readonly range: InstantRange;
}

/** The sequence of a leaf at `asOf`. */
export function sequenceUse(leaf: Sequence, asOf: number): SequenceUse {
  const steps = leafUses(leaf, asOf);
  const key = JSON.stringify({ steps: steps.map((s) => s.measure.key), max_gap_ms: leaf.maxGap?.ms ?? null });
  return {
    id: `s${createHash('sha256').update(key).digest('hex').slice(0, 16)}`,
    key,
    steps,
    ...(leaf.maxGap ? { maxGapMs: leaf.maxGap.ms } : {}),
    range: windowRange(leaf.window, asOf),
  };
}

/** The key of a sequence over its window: the same sequence over the same window is computed once. */
export const sequenceKey = (s: SequenceUse): string => `${s.id}|${s.range.from ?? ''}|${s.range.to}`;

/** Every distinct sequence the cohorts read at `asOf`, first seen first. */
export function requestSequences(cohorts: readonly CohortDefinition[], asOf: number): SequenceUse[] {
  const byKey = new Map<string, SequenceUse>();
  for (const leaf of cohorts.flatMap((c) => leaves(c.rule))) {
    if (leaf.kind !== 'sequence') continue;
    const use = sequenceUse(leaf, asOf);
    if (!byKey.has(sequenceKey(use))) byKey.set(sequenceKey(use), use);
  }
  return [...byKey.values()];
}
