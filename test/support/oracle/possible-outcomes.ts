import type { OracleCohort } from './conditions.ts';
import { evaluatePerson } from './evaluate.ts';
import type { LakeEvents, OracleEvent } from './lake-events.ts';

/**
 * Every outcome the SPEC allows for each person: one, except where copies of an event_id differ and
 * "which one counts is unspecified" (SPEC section 1). Then each way of letting one copy count is
 * tried (a copy at or after T counting means none is seen), for the event_ids touching the person.
 */

/** A person's outcome: outside the population, or the sorted ids of the cohorts they belong to. */
export type Outcome = 'outside' | readonly string[];

const MAX_CHOICES = 4096;
const keyOf = (outcome: Outcome): string => JSON.stringify(outcome);

/** The outcomes each person (by person_id) may have; a person with several is the contested ones'. */
export function possibleOutcomes(lake: LakeEvents, cohorts: readonly OracleCohort[], asOf: number): Map<string, Map<string, Outcome>> {
  const settled = new Map<string, OracleEvent[]>();
  for (const event of lake.settled) settled.set(event.personId, [...(settled.get(event.personId) ?? []), event]);
  const contested = new Map<string, (readonly OracleEvent[])[]>();
  for (const copies of lake.contested) {
    for (const person of new Set(copies.map((copy) => copy.personId))) contested.set(person, [...(contested.get(person) ?? []), copies]);
  }
  const outcomes = new Map<string, Map<string, Outcome>>();
  for (const person of new Set([...settled.keys(), ...contested.keys()])) {
    const groups = contested.get(person) ?? [];
    const choices = groups.reduce((product, copies) => product * copies.length, 1);
    if (choices > MAX_CHOICES) throw new Error(`oracle: ${person} has ${choices} ways of choosing among differing copies`);
    const possible = new Map<string, Outcome>();
    for (let choice = 0; choice < choices; choice++) {
      let rest = choice;
      const chosen = groups.flatMap((copies) => {
        const copy = copies[rest % copies.length] as OracleEvent;
        rest = Math.floor(rest / copies.length);
        return copy.personId === person ? [copy] : [];
      });
      const membership = evaluatePerson([...(settled.get(person) ?? []), ...chosen], cohorts, asOf);
      const outcome: Outcome = membership
        ? [...membership]
            .filter(([, member]) => member)
            .map(([id]) => id)
            .sort()
        : 'outside';
      possible.set(keyOf(outcome), outcome);
    }
    outcomes.set(person, possible);
  }
  return outcomes;
}

/** How an engine's answer compares with the oracle's. */
export interface Verdict {
  /** One line per person whose outcome the oracle does not allow. */
  readonly disagreements: string[];
  /** Persons with exactly one allowed outcome, and with several. */
  readonly settled: number;
  readonly contested: number;
}

/**
 * Compares `actual` (each person's outcome from an engine; persons not listed are outside the
 * population, or members of nothing when `membersOnly`) with the allowed outcomes. `membersOnly`
 * compares member lists alone (an expected-members file does not give the population).
 */
export function judge(
  possible: ReadonlyMap<string, ReadonlyMap<string, Outcome>>,
  actual: ReadonlyMap<string, Outcome>,
  membersOnly = false,
): Verdict {
  const normal = (outcome: Outcome): string => keyOf(membersOnly && outcome === 'outside' ? [] : outcome);
  const disagreements: string[] = [];
  let settled = 0;
  let contested = 0;
  for (const person of new Set([...possible.keys(), ...actual.keys()])) {
    const allowed = [...(possible.get(person)?.values() ?? ['outside' as const])].map(normal);
    if (new Set(allowed).size > 1) contested++;
    else settled++;
    const got = normal(actual.get(person) ?? 'outside');
    if (!allowed.includes(got))
      disagreements.push(`${JSON.stringify(person)}: given ${got}, the oracle allows ${[...new Set(allowed)].join(' or ')}`);
  }
  return { disagreements, settled, contested };
}
