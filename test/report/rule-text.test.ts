import { describe, expect, it } from 'vitest';
import type { Condition } from '../../shared/language/ast.ts';
import { buildActions } from '../../shared/language/actions.ts';
import { parseDefinition } from '../../shared/language/parse-definition.ts';
import { parseConfig } from '../../shared/config/config.ts';
import { filterText, ruleText } from '../../shared/report/rule-text.ts';

const HEADER = 'id: every_form\nname: Every form\nowner: test-team\npurpose: Covers every rule form.\ncadence: daily\n';

const RULE = `rule:
  all:
    - event: [feature_used, export_created]
      source: [product, "crm"]
      where:
        plan: {in: [pro, team]}
        seats: {gte: 5, lt: 100}
        "utm.source": newsletter
        beta: true
        note: "yes"
        id: {exists: false}
      between: [30d, 7d]
      count: 3
    - any:
        - event: invoice_paid
          sum: {gte: 100.5}
        - event: invoice_paid
          source: billing
          sum: {of: amount, lt: 10}
        - event: "*"
          distinct: {of: feature, gte: 3}
          before: 2w
        - event: login
          within: 3months
        - event: login
          where: {platform: web}
          periods: {every: 1month, count: 3, at_least: 2}
          count: {gte: 2, lte: 10}
        - earliest: {event: $identify, property: plan, within: 1y}
          eq: free
        - latest: {event: trait_set, property: trial_ends_at}
          within_next: 1month
        - event: $pageview
          where: {$current_url: {contains: "50%_off", starts_with: "https://"}, $browser: {icontains: chrome}, due_at: {before: 3months, within: 2y}}
        - list: vips
    - not:
        latest: {event: subscription_changed, property: plan, source: billing, within: 90d, where: {reason: {neq: "x'; DROP TABLE events; --"}}}
        in: [pro, enterprise]
    - not:
        any:
          - velocity: {event: "*", window: 1y}
            lte: 0.5
          - cohort: other_cohort
    - sequence:
        - {event: viewed, source: web, where: {path: /pricing}}
        - {event: [carted, saved]}
      max_gap: 36h
      between: [30d, 1d]
`;

function withoutPositions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPositions);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== 'position')
        .map(([k, v]) => [k, withoutPositions(v)]),
    );
  }
  return value;
}

function parseRule(ruleYaml: string): Condition {
  const result = parseDefinition(HEADER + ruleYaml, 'definitions/every_form.yaml');
  if (!result.ok) throw new Error(result.problems.map((p) => p.message).join('\n'));
  return result.definition.rule;
}

describe('the readable rendering of a rule', () => {
  it('is YAML that parses back to the same rule, for every condition form', () => {
    // Prepare
    const rule = parseRule(RULE);
    // Act
    const text = ruleText(rule);
    // Assess
    const again = parseRule(`rule:\n${text.replace(/^/gm, '  ')}\n`);
    expect(withoutPositions(again)).toEqual(withoutPositions(rule));
  });

  it('writes leaves the way analysts do, with the default measure made explicit', () => {
    const text = ruleText(parseRule('rule:\n  not: {cohort: other_cohort}\n'));
    expect(text).toBe('not: {cohort: other_cohort}');
    expect(ruleText(parseRule('rule:\n  event: login\n  where: {plan: pro}\n  within: 7d\n'))).toBe(
      'event: login\nwhere:\n  plan: pro\nwithin: 7d\ncount: {gte: 1}',
    );
  });
});

describe('the readable rendering of a sequence', () => {
  it('lists its steps in order, one filter a line, then max_gap and the window', () => {
    const rule = parseRule(
      'rule:\n  sequence:\n    - event: signed_up\n      source: product\n    - {event: upgraded, where: {plan: {in: [pro, team]}}}\n  max_gap: 2w\n  within: 90d\n',
    );
    expect(ruleText(rule)).toBe(
      'sequence:\n  - {event: signed_up, source: product}\n  - {event: upgraded, where: {plan: {in: [pro, team]}}}\nmax_gap: 2w\nwithin: 90d',
    );
  });
});

describe('named actions in the readable rule (issue 16)', () => {
  it('shows an action step of a sequence and an action with periods by name, what each resolved to as a comment', () => {
    const { actions } = buildActions([
      { path: 'definitions/actions/paid.yaml', text: 'id: paid\nowner: o\npurpose: p\nevent: checkout\nsource: billing\n' },
    ]);
    const read = (rule: string) => {
      const result = parseDefinition(`${HEADER}${rule}`, 'definitions/every_form.yaml', actions);
      if (!result.ok) throw new Error(result.problems.map((p) => p.message).join('\n'));
      return ruleText(result.definition.rule);
    };
    const sequence = read('rule:\n  sequence:\n    - {event: viewed}\n    - {action: paid, where: {plan: pro}}\n  max_gap: 1d\n');
    expect(sequence).toBe(
      'sequence:\n  - {event: viewed}\n  - action: paid  # {event: checkout, source: billing, where: {plan: pro}}\nmax_gap: 1d',
    );
    expect(read('rule:\n  action: paid\n  periods: {every: 1month, count: 3, at_least: 2}\n')).toBe(
      'action: paid  # {event: checkout, source: billing}\nperiods: {every: 1month, count: 3, at_least: 2}\ncount: {gte: 1}',
    );
  });
});

describe('calendar durations and periods in the readable rule (issue 16)', () => {
  it('shows months as written and periods beside their count, so a plan diff reads them', () => {
    expect(ruleText(parseRule('rule:\n  event: login\n  periods: {every: 1month, count: 3, at_least: 2}\n'))).toBe(
      'event: login\nperiods: {every: 1month, count: 3, at_least: 2}\ncount: {gte: 1}',
    );
    expect(ruleText(parseRule('rule:\n  event: login\n  between: [1y, 3months]\n'))).toBe(
      'event: login\nbetween: [1y, 3months]\ncount: {gte: 1}',
    );
  });
});

describe('an event filter on one line', () => {
  it('keeps the keys in the order analysts write them, where and window included', () => {
    const metrics = parseConfig(
      'metrics:\n  activation: {event: [feature_used, export_created], source: product, where: {plan: {in: [pro, team]}, beta: true}, within: 14d}\n  value: {within: 30d}\n',
      'c.yaml',
    ).metrics;
    expect(filterText(metrics.activation)).toBe(
      '{event: [feature_used, export_created], source: product, where: {plan: {in: [pro, team]}, beta: true}, within: 14d}',
    );
    expect(filterText(metrics.value)).toBe('{event: "*", within: 30d}');
  });
});
