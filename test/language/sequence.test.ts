import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../shared/language/errors.ts';
import { parseDefinition } from '../../shared/language/parse-definition.ts';

/** A definition file whose `rule:` block is `rule` (indented by the caller). */
const definition = (rule: string) => `id: seq_test\nname: n\nowner: o\npurpose: p\ncadence: daily\nrule:\n${rule}`;

const problemsOf = (text: string): string[] => {
  const result = parseDefinition(text, 'd.yaml');
  return result.ok ? [] : result.problems.map(formatProblem);
};

const parsed = (text: string) => {
  const result = parseDefinition(text, 'd.yaml');
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
  return result.definition;
};

const FUNNEL =
  '  sequence:\n    - {event: viewed, source: web, where: {path: /pricing}}\n    - {event: [carted, saved]}\n  max_gap: 1d\n  within: 30d\n';

describe('a sequence leaf', () => {
  it('reads its steps in order as event filters, with max_gap and one window for the whole sequence', () => {
    expect(parsed(definition(FUNNEL)).rule).toEqual({
      kind: 'sequence',
      steps: [
        { events: ['viewed'], sources: ['web'], where: [{ property: 'path', ops: { eq: '/pricing' } }] },
        { events: ['carted', 'saved'], where: [] },
      ],
      maxGap: { text: '1d', ms: 86_400_000 },
      window: { kind: 'within', duration: { text: '30d', ms: 2_592_000_000 } },
    });
  });

  it('needs neither max_gap nor a window', () => {
    const rule = parsed(definition('  sequence: [{event: signed_up}, {event: upgraded}]\n')).rule;
    expect(rule).toEqual({
      kind: 'sequence',
      steps: [expect.objectContaining({ events: ['signed_up'] }), expect.objectContaining({ events: ['upgraded'] })],
    });
  });

  it('has one hash whatever the key order, and another one when its steps change order', () => {
    const reordered =
      '  within: 30d\n  max_gap: 1d\n  sequence:\n    - {where: {path: /pricing}, source: web, event: viewed}\n    - {event: [carted, saved]}\n';
    const swapped =
      '  sequence:\n    - {event: [carted, saved]}\n    - {event: viewed, source: web, where: {path: /pricing}}\n  max_gap: 1d\n  within: 30d\n';
    expect(parsed(definition(reordered)).hash).toBe(parsed(definition(FUNNEL)).hash);
    expect(parsed(definition(swapped)).hash).not.toBe(parsed(definition(FUNNEL)).hash);
  });

  it('refuses one step at its line and column, pointing to the event leaf', () => {
    expect(problemsOf(definition('  sequence:\n    - {event: viewed}\n'))).toEqual([
      'd.yaml:8:5: rule.sequence needs at least two steps (one step is an event leaf: write {event: ...} instead)',
    ]);
  });

  it('refuses a window or a measure inside a step, at the step', () => {
    const problems = problemsOf(definition('  sequence:\n    - {event: viewed, within: 7d}\n    - {event: bought, count: 2}\n'));
    expect(problems).toEqual([
      'd.yaml:8:23: rule.sequence[0]: unknown key "within" (a typo is never ignored)',
      'd.yaml:9:23: rule.sequence[1]: unknown key "count" (a typo is never ignored)',
    ]);
  });

  it('refuses a step without an event, a bad max_gap, two windows and a measure beside the sequence', () => {
    expect(problemsOf(definition('  sequence:\n    - {source: web}\n    - {event: bought}\n'))).toEqual([
      'd.yaml:8:7: rule.sequence[0].event is missing: each step names its event (a list of events, or "*") or an action',
    ]);
    expect(problemsOf(definition('  sequence: [{event: a}, {event: b}]\n  max_gap: 1mo\n'))[0]).toMatch(
      /^d\.yaml:8:12: .*max_gap.*duration/,
    );
    expect(problemsOf(definition('  sequence: [{event: a}, {event: b}]\n  within: 7d\n  before: 1d\n'))[0]).toMatch(
      /^d\.yaml:7:3: .*at most one window key/,
    );
    expect(problemsOf(definition('  sequence: [{event: a}, {event: b}]\n  count: 2\n'))[0]).toMatch(/^d\.yaml:8:3: .*count/);
  });
});
