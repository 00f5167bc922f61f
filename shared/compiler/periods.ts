import type { Bounds, Periods } from '../language/ast.ts';
import { instantBefore } from '../language/window-duration.ts';
import { boundsPredicate } from './predicates.ts';
import { integerLiteral } from './sql-text.ts';

/** An instant range `[from, to)` in milliseconds since the epoch. */
export interface PeriodRange {
  readonly from: number;
  readonly to: number;
}

/**
 * The periods at as-of `asOf`, newest first: period i is `[T - (i+1)*every, T - i*every)`, each
 * edge counted back from T itself (calendar months clamp their day once, not per step).
 */
export function periodRanges(periods: Periods, asOf: number): PeriodRange[] {
  return Array.from({ length: periods.count }, (_, i) => ({
    from: instantBefore(asOf, periods.every, i + 1),
    to: instantBefore(asOf, periods.every, i),
  }));
}

/**
 * Whether at least `at_least` periods satisfy the bounds, given each period's count (an SQL
 * integer expression, 0 for a period without events): the one test both the full computation
 * and the tiled query write.
 */
export function periodsPredicate(counts: readonly string[], bounds: Bounds, periods: Periods): string {
  const held = counts.map((count) => `(CASE WHEN ${boundsPredicate(count, bounds)} THEN 1 ELSE 0 END)`);
  return `(${held.join(' + ')}) >= ${integerLiteral(periods.at_least)}`;
}
