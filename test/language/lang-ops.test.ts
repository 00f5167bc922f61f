import { describe, expect, it } from 'vitest';
import type { Condition } from '../../shared/language/ast.ts';
import { formatProblem } from '../../shared/language/errors.ts';
import { parseDefinition } from '../../shared/language/parse-definition.ts';
import { ruleText } from '../../shared/report/rule-text.ts';

/** Issue 16 items 2, 4 and 7 in the language: `$` names, string and date operators, `earliest`. */

const definition = (rule: string) => `id: lang_ops\nname: n\nowner: o\npurpose: p\ncadence: daily\nrule:\n${rule}`;

function parsed(rule: string) {
  const result = parseDefinition(definition(rule), 'd.yaml');
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
  return result.definition;
}

const problemsOf = (rule: string): string[] => {
  const result = parseDefinition(definition(rule), 'd.yaml');
  return result.ok ? [] : result.problems.map(formatProblem);
};

describe('property names starting with $', () => {
  it('reads $current_url and $browser as top-level keys', () => {
    const rule = parsed('  event: $pageview\n  where: {$current_url: {contains: /pricing}, $browser: Chrome}\n').rule;
    expect(rule.kind === 'event' && rule.filter.where.map((w) => w.property)).toEqual(['$current_url', '$browser']);
  });

  it.each([
    [
      'a $ inside a name',
      '  event: e\n  where: {a$b: 1}\n',
      /^d\.yaml:8:11: rule\.where\.[^:]+: property name must be a top-level key matching/,
    ],
    [
      'two leading $',
      '  event: e\n  where: {$$x: 1}\n',
      /^d\.yaml:8:11: rule\.where\.[^:]+: property name must be a top-level key matching/,
    ],
    ['a lone $', '  latest: {event: e, property: $}\n  exists: true\n', /^d\.yaml:7:32: rule\.latest\.property property name must be/],
  ])('refuses %s at its line and column', (_, rule, message) => {
    expect(problemsOf(rule)).toEqual([expect.stringMatching(message)]);
  });
});

describe('string operators', () => {
  it('keeps operands as written (no pattern characters) and accepts all four on one property', () => {
    const rule = parsed(
      '  event: e\n  where:\n    url: {contains: "50%_off", starts_with: "https://", ends_with: .de, icontains: ÉtÉ}\n',
    ).rule;
    expect(rule.kind === 'event' && rule.filter.where[0]?.ops).toEqual({
      contains: '50%_off',
      starts_with: 'https://',
      ends_with: '.de',
      icontains: 'ÉtÉ',
    });
  });

  it.each([
    [
      'a number operand',
      '  event: e\n  where: {code: {contains: 42}}\n',
      /^d\.yaml:8:28: rule\.where\.code\.contains must be text \(quote a number: "42"\), got 42$/,
    ],
    [
      'an empty operand',
      '  event: e\n  where: {url: {starts_with: ""}}\n',
      /^d\.yaml:8:30: rule\.where\.url\.starts_with must not be empty$/,
    ],
    ['a list operand', '  latest: {event: e, property: p}\n  icontains: [a]\n', /^d\.yaml:8:14: rule\.icontains must be text/],
    [
      'a NUL in an operand',
      '  event: e\n  where: {url: {ends_with: "a\\0"}}\n',
      /^d\.yaml:8:28: rule\.where\.url\.ends_with must not contain the NUL character$/,
    ],
  ])('refuses %s at its line and column', (_, rule, message) => {
    expect(problemsOf(rule)).toEqual([expect.stringMatching(message)]);
  });
});

describe('date operators', () => {
  it('reads before, within and within_next as durations, in where and beside latest', () => {
    const rule = parsed(
      '  all:\n    - event: e\n      where: {signup_at: {before: 30d, within_next: 2w}}\n    - latest: {event: e, property: renews_at}\n      within: 12h\n',
    ).rule;
    if (rule.kind !== 'all') throw new Error('all');
    const [where, latest] = rule.items as [Condition, Condition];
    expect(where.kind === 'event' && where.filter.where[0]?.ops).toEqual({
      before: { text: '30d', ms: 30 * 86_400_000 },
      within_next: { text: '2w', ms: 14 * 86_400_000 },
    });
    expect(latest.kind === 'latest' && latest.ops).toEqual({ within: { text: '12h', ms: 12 * 3_600_000 } });
  });

  it('takes calendar months and years there too, as windows do; 3mo stays refused with the spelling to use', () => {
    const rule = parsed('  event: e\n  where: {renews_at: {within_next: 1month, before: 1y}, trial_at: {within: 3months}}\n').rule;
    expect(rule.kind === 'event' && rule.filter.where.map((w) => w.ops)).toEqual([
      { within_next: { text: '1month', months: 1 }, before: { text: '1y', months: 12 } },
      { within: { text: '3months', months: 3 } },
    ]);
    expect(problemsOf('  latest: {event: e, property: p}\n  within: 3mo\n')).toEqual([
      expect.stringMatching(/^d\.yaml:8:11: rule\.within must be a duration such as 30d or 3months: mo is not a unit/),
    ]);
  });

  it.each([
    [
      'a duration without unit',
      '  event: e\n  where: {signup_at: {before: 30}}\n',
      /^d\.yaml:8:31: rule\.where\.signup_at\.before must be a duration/,
    ],
    [
      'a zero duration',
      '  latest: {event: e, property: p}\n  within_next: 0d\n',
      /^d\.yaml:8:16: rule\.within_next must be a positive duration/,
    ],
  ])('refuses %s at its line and column', (_, rule, message) => {
    expect(problemsOf(rule)).toEqual([expect.stringMatching(message)]);
  });
});

describe('earliest', () => {
  it('parses as the mirror of latest and hashes differently from the same latest', () => {
    const earliest = parsed('  earliest: {event: plan_set, property: plan, within: 30d}\n  eq: pro\n');
    const latest = parsed('  latest: {event: plan_set, property: plan, within: 30d}\n  eq: pro\n');
    expect(earliest.rule).toEqual({ ...latest.rule, kind: 'earliest' });
    expect(earliest.hash).not.toBe(latest.hash);
  });

  it('needs an operator beside it and refuses latest and earliest together', () => {
    expect(problemsOf('  earliest: {event: e, property: p}\n')).toEqual([
      expect.stringMatching(/^d\.yaml:7:3: rule needs at least one property operator: .* beside earliest$/),
    ]);
    expect(problemsOf('  earliest: {event: e, property: p}\n  latest: {event: e, property: p}\n  eq: 1\n')).toHaveLength(1);
  });

  it('shows in the rule text (plans and the report) with the new operators as written', () => {
    const rule = parsed('  earliest: {event: $identify, property: $initial_referrer}\n  icontains: google\n  within: 30d\n').rule;
    expect(ruleText(rule)).toBe(
      ['earliest:', '  event: "$identify"', '  property: "$initial_referrer"', 'icontains: google', 'within: 30d'].join('\n'),
    );
  });
});
