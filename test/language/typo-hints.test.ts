import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../shared/language/errors.ts';
import { nearestName } from '../../shared/language/nearest-name.ts';
import { parseDefinition } from '../../shared/language/parse-definition.ts';

const HEAD = { id: 'id: typo', name: 'name: n', owner: 'owner: o', purpose: 'purpose: p', cadence: 'cadence: daily' };
const problemsOf = (head: Partial<Record<keyof typeof HEAD, string>>, rule = 'rule:\n  event: login\n'): string[] => {
  const text = `${Object.values({ ...HEAD, ...head }).join('\n')}\n${rule}`;
  const result = parseDefinition(text, 'd.yaml');
  return result.ok ? [] : result.problems.map(formatProblem);
};

describe('a typo of a required key', () => {
  it('is one problem, at the typo, naming the key meant', () => {
    expect(problemsOf({ cadence: 'cadance: daily' })).toEqual([
      'd.yaml:5:1: unknown key "cadance": did you mean "cadence"? (cadence is required)',
    ]);
    expect(problemsOf({ owner: 'ownr: o' })).toEqual(['d.yaml:3:1: unknown key "ownr": did you mean "owner"? (owner is required)']);
  });

  it('inside a block too', () => {
    expect(problemsOf({}, 'rule:\n  event: login\n  periods: {every: 7d, count: 4, at_lest: 2}\n')).toEqual([
      'd.yaml:8:34: rule.periods: unknown key "at_lest": did you mean "at_least"? (at_least is required)',
    ]);
  });

  it('leaves an unknown key far from every missing key, and the missing key, as two problems', () => {
    expect(problemsOf({ owner: 'colour: red' })).toEqual([
      'd.yaml:1:1: owner is required',
      'd.yaml:3:1: unknown key "colour" (a typo is never ignored)',
    ]);
  });

  it('suggests a name at most two edits away, and fewer than half its letters', () => {
    expect(nearestName('cadance', ['owner', 'cadence'])).toBe('cadence');
    expect(nearestName('ass-of', ['as-of', 'force'])).toBe('as-of');
    expect(nearestName('x', ['y', 'as-of'])).toBeUndefined();
    expect(nearestName('colour', ['owner', 'cadence'])).toBeUndefined();
  });
});

describe('a typo of an optional key', () => {
  it('names the key meant, at the top of a definition', () => {
    expect(problemsOf({}, 'rule:\n  event: login\nquailty:\n  min_size: 10\n')).toEqual([
      'd.yaml:8:1: unknown key "quailty": did you mean "quality"?',
    ]);
  });

  it('names the key meant in nested blocks: quality, its kpis, a rule', () => {
    expect(problemsOf({}, 'rule:\n  event: login\nquality:\n  min_sise: 10\n')).toEqual([
      'd.yaml:9:3: quality: unknown key "min_sise": did you mean "min_size"?',
    ]);
    expect(problemsOf({}, 'rule:\n  event: login\nquality:\n  kpis:\n    histroy_z: {warn: 3}\n')).toEqual([
      'd.yaml:10:5: quality.kpis: unknown key "histroy_z": did you mean "history_z"?',
    ]);
    expect(problemsOf({}, 'rule:\n  event: login\n  withn: 7d\n')).toEqual([
      'd.yaml:8:3: rule: unknown key "withn": did you mean "within"?',
    ]);
  });

  it('in a union, names a key of the form the other keys belong to, not of another form', () => {
    // `nto` is one edit from `not` (another form of a rule), but the mapping is an event leaf.
    expect(problemsOf({}, 'rule:\n  event: login\n  nto: 1\n')).toEqual(['d.yaml:8:3: rule: unknown key "nto" (a typo is never ignored)']);
  });

  it('suggests nothing for an unknown key far from every allowed key', () => {
    expect(problemsOf({}, 'rule:\n  event: login\nquality:\n  colour: red\n')).toEqual([
      'd.yaml:9:3: quality: unknown key "colour" (a typo is never ignored)',
    ]);
  });
});
