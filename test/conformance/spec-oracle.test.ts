import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFORMANCE_ROOT, caseNames } from '../support/conformance.ts';
import { parseTimestamp } from '../support/oracle/lake-events.ts';
import { judge, type Outcome, oracleOutcomes } from '../support/spec-oracle.ts';

/**
 * The SPEC oracle (test/support/spec-oracle.ts) against every public conformance case: their
 * expected members are the ground truth, so this validates the oracle that random-oracle.test.ts
 * then holds the engine to.
 */
describe('the SPEC oracle on the conformance cases', () => {
  it.each(caseNames('cases'))('%s: the oracle gives exactly the expected members of every cohort', (name) => {
    // GIVEN the case's lake, definitions, as-of and expected members
    const dir = join(CONFORMANCE_ROOT, 'cases', name);
    const asOf = parseTimestamp((JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as { as_of: string }).as_of);
    const definitions = readdirSync(join(dir, 'definitions'))
      .filter((file) => /\.ya?ml$/.test(file))
      .map((file) => readFileSync(join(dir, 'definitions', file), 'utf8'));
    const expected = new Map<string, string[]>();
    for (const file of readdirSync(join(dir, 'expected'))) {
      const id = file.replace(/\.txt$/, '');
      for (const person of readFileSync(join(dir, 'expected', file), 'utf8')
        .split('\n')
        .slice(0, -1)) {
        expected.set(person, [...(expected.get(person) ?? []), id].sort());
      }
    }
    // WHEN the oracle evaluates them
    const possible = oracleOutcomes(join(dir, 'lake'), definitions, asOf as number);
    // THEN every person's expected cohorts are the one outcome the oracle allows
    const verdict = judge(possible, expected as Map<string, Outcome>, true);
    expect(verdict.disagreements).toEqual([]);
    expect(verdict.contested).toBe(0);
  });
});
