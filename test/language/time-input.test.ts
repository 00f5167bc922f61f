import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config/config.ts';
import { formatProblem } from '../../shared/language/errors.ts';
import { parseDefinition } from '../../shared/language/parse-definition.ts';

/** A definition file whose `rule:` block is `rule` (indented by the caller); the rule starts on line 7. */
const definition = (rule: string) => `id: bad_input\nname: n\nowner: o\npurpose: p\ncadence: daily\nrule:\n${rule}`;

const problemsOf = (rule: string): string[] => {
  const result = parseDefinition(definition(rule), 'd.yaml');
  return result.ok ? [] : result.problems.map(formatProblem);
};

const ruleOf = (rule: string) => {
  const result = parseDefinition(definition(rule), 'd.yaml');
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
  return result.definition;
};

describe('calendar months and years in windows (issue 16)', () => {
  it('keeps 3months and 1y as written in the parsed rule and its hash (not converted to days)', () => {
    const rule = ruleOf('  event: login\n  between: [1y, 3months]\n').rule;
    expect(rule).toMatchObject({
      filter: { window: { kind: 'between', from: { text: '1y', months: 12 }, to: { text: '3months', months: 3 } } },
    });
    expect(ruleOf('  event: login\n  within: 12months\n').hash).not.toBe(ruleOf('  event: login\n  within: 1y\n').hash);
    expect(ruleOf('  event: login\n  within: 30d\n').hash).not.toBe(ruleOf('  event: login\n  within: 1month\n').hash);
  });

  it('accepts months in velocity windows and in the config metrics', () => {
    expect(ruleOf('  velocity: {event: login, window: 1month}\n  gt: 1\n').rule).toMatchObject({ window: { text: '1month', months: 1 } });
    const metrics = parseConfig('metrics:\n  activation: {event: login, within: 1month}\n  value: {within: 1y}\n', 'c.yaml').metrics;
    expect(metrics.value.window).toEqual({ kind: 'within', duration: { text: '1y', months: 12 } });
  });

  it('refuses an unknown unit, zero months and more than 100 years at the value', () => {
    // The SPEC's conformance case bad_duration refuses `1mo`: calendar months are spelt `month(s)`.
    expect(problemsOf('  event: login\n  within: 1mo\n')).toEqual([
      'd.yaml:8:11: rule.within must be a duration such as 30d or 1month: mo is not a unit (SPEC section 2), got "1mo"',
    ]);
    expect(problemsOf('  event: login\n  within: 1m\n')).toEqual([
      'd.yaml:8:11: rule.within must be a duration such as 30d, 12h, 2w, 3months or 1y (units h, d, w, month or months for calendar months, y for 12 months), got "1m"',
    ]);
    expect(problemsOf('  event: login\n  within: 0months\n')).toEqual([
      'd.yaml:8:11: rule.within must be a positive duration, got "0months"',
    ]);
    expect(problemsOf('  event: login\n  before: 101y\n')).toEqual([
      expect.stringMatching(/^d\.yaml:8:11: rule\.before must be at most 100 years/),
    ]);
    expect(problemsOf('  velocity: {event: login, window: 13mons}\n  gt: 1\n')).toEqual([
      expect.stringMatching(/^d\.yaml:7:36: rule\.velocity\.window must be a duration such as/),
    ]);
  });

  it('refuses a between whose order depends on the as-of (1month is 28 to 31 days)', () => {
    expect(problemsOf('  event: login\n  between: [1month, 30d]\n')).toEqual([
      'd.yaml:8:12: rule.between [D1, D2] needs D1 longer than D2 at every as-of (n months count as 28n to 31n days), got [1month, 30d]',
    ]);
    expect(problemsOf('  event: login\n  between: [1month, 1month]\n')).toEqual([
      'd.yaml:8:12: rule.between [D1, D2] needs D1 longer than D2, got [1month, 1month]',
    ]);
    expect(problemsOf('  event: login\n  between: [3months, 30d]\n')).toEqual([]);
  });
});

describe('periods (issue 16, "regularly")', () => {
  it('parses every, count and at_least beside a count, and defaults the count to at least 1 per period', () => {
    expect(ruleOf('  event: login\n  periods: {every: 1month, count: 3, at_least: 2}\n').rule).toEqual({
      kind: 'periods',
      filter: { events: ['login'], where: [] },
      periods: { every: { text: '1month', months: 1 }, count: 3, at_least: 2 },
      bounds: { gte: 1 },
    });
    expect(ruleOf('  event: login\n  periods: {every: 7d, count: 4, at_least: 4}\n  count: {lte: 0}\n').rule).toMatchObject({
      bounds: { lte: 0 },
    });
  });

  it('refuses a window or a sum beside periods, at the periods key', () => {
    expect(problemsOf('  event: login\n  within: 7d\n  periods: {every: 7d, count: 4, at_least: 3}\n')).toEqual([
      'd.yaml:9:12: rule.periods stand in place of the window: leave out within, before and between',
    ]);
    expect(problemsOf('  event: login\n  periods: {every: 7d, count: 4, at_least: 3}\n  sum: {gte: 1}\n')).toEqual([
      'd.yaml:8:12: rule.periods test a count: use count (or no measure), not sum or distinct',
    ]);
  });

  it('refuses every of zero, counts below 1, at_least above count, and more than 100 years of periods', () => {
    expect(problemsOf('  event: login\n  periods: {every: 0d, count: 0, at_least: 0}\n')).toEqual([
      'd.yaml:8:20: rule.periods.every must be a positive duration, got "0d"',
      'd.yaml:8:31: rule.periods.count must be at least 1, got 0',
      'd.yaml:8:44: rule.periods.at_least must be at least 1, got 0',
    ]);
    expect(problemsOf('  event: login\n  periods: {every: 7d, count: 2, at_least: 3}\n')).toEqual([
      'd.yaml:8:44: rule.periods.at_least must be at most count (2), got 3',
    ]);
    expect(problemsOf('  event: login\n  periods: {every: 1y, count: 101, at_least: 1}\n')).toEqual([
      'd.yaml:8:31: rule.periods.count 101 periods of 1y reach back more than 100 years',
    ]);
    expect(problemsOf('  event: login\n  periods:\n    every: 2months\n    count: 1.5\n    at_least: 1\n')).toEqual([
      'd.yaml:10:12: rule.periods.count must be a positive integer, got 1.5',
    ]);
    expect(problemsOf('  event: login\n  periods: {every: 7d, count: 4}\n')).toEqual(['d.yaml:8:12: rule.periods.at_least is required']);
  });
});
