import type { EventFilter, Sequence } from './ast.ts';
import type { Leaf } from './condition-leaves.ts';

/** The steps of a sequence as event filters, each with the sequence's window (when it has one). */
export function stepFilters(sequence: Sequence): EventFilter[] {
  return sequence.steps.map((step) => (sequence.window ? { ...step, window: sequence.window } : step));
}

/** The event filters a leaf reads through: its filter, a sequence's steps, none for a cohort reference. */
export function leafFilters(leaf: Leaf): EventFilter[] {
  if (leaf.kind === 'cohort' || leaf.kind === 'list') return [];
  return leaf.kind === 'sequence' ? stepFilters(leaf) : [leaf.filter];
}
