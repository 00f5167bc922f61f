import { readCohorts } from './oracle/conditions.ts';
import { readLakeEvents } from './oracle/lake-events.ts';
import { type Outcome, possibleOutcomes } from './oracle/possible-outcomes.ts';

/**
 * An independent oracle for SPEC sections 1 to 4: plain TypeScript written from ../shared/SPEC.md
 * alone, never from shared/compiler/ or shared/tiles/, so that a misreading of the SPEC shared by
 * the full computation and the tiles (both compiled from one AST) shows up against it.
 * The parts: oracle/json-text.ts (numbers as written), oracle/lake-events.ts (section 1),
 * oracle/conditions.ts (sections 2-4, the definitions), oracle/property-values.ts (section 4's
 * operators), oracle/evaluate.ts (one person), oracle/possible-outcomes.ts (differing duplicates).
 */

export { judge, type Outcome, type Verdict } from './oracle/possible-outcomes.ts';

/** Microseconds since the epoch of an instant in milliseconds. */
export const microsOf = (ms: number): number => ms * 1000;

/**
 * The outcomes the SPEC allows for each person of the lake at `lake` (JSONL files), for the
 * cohorts of `definitionTexts` (YAML, one cohort each) at `asOfMicros`.
 */
export function oracleOutcomes(lake: string, definitionTexts: readonly string[], asOfMicros: number): Map<string, Map<string, Outcome>> {
  return possibleOutcomes(readLakeEvents(lake), readCohorts(definitionTexts), asOfMicros);
}
