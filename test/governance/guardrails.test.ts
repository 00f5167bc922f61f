import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, parseConfig } from '../../shared/config/config.ts';
import { compareCatalogs, publishedCatalog } from '../../shared/governance/compare.ts';
import { judgeChange, judgeStatically } from '../../shared/governance/guardrails.ts';
import type { ApprovalDecision } from '../../shared/governance/records.ts';
import { lineDiff } from '../../shared/governance/line-diff.ts';
import { definitionYaml, definitions, entries } from './support.ts';

const settings = DEFAULT_CONFIG.guardrails;
const WIDER = '  event: login\n  within: 30d';

/** The change of `id` from the published texts to the working ones. */
function changeOf(id: string, published: Record<string, string>, working: Record<string, string>) {
  const change = compareCatalogs(definitions(working), publishedCatalog(entries(published))).find((c) => c.cohort === id);
  if (!change) throw new Error(`no change of ${id}`);
  return change;
}

const decision = (hash: string, outcome: ApprovalDecision['decision']): ApprovalDecision => ({
  cohort: 'core_users',
  hash,
  decision: outcome,
  by: 'dana',
  note: 'checked the new members',
  at: '2024-06-02T00:00:00.000Z',
});

describe('the guardrails on definition changes', () => {
  const published = { core_users: definitionYaml('core_users') };

  it('refuse removing the file of a core cohort and say to deprecate it instead', () => {
    const change = changeOf('core_users', published, { other_users: definitionYaml('other_users', { tier: 'tactical' }) });
    expect(change.kind).toBe('removed');
    const verdict = judgeChange(change, { settings });
    expect(verdict.verdict).toBe('refused');
    expect(verdict.reasons[0]).toContain('deprecated');
  });

  it('accept removing the file of a cohort that is not core', () => {
    const change = changeOf('side_users', { side_users: definitionYaml('side_users', { tier: 'tactical' }) }, {});
    expect(judgeChange(change, { settings }).verdict).toBe('accepted');
  });

  it('refuse a core rule change without a change_reason, and with the published change_reason repeated', () => {
    const without = changeOf('core_users', published, { core_users: definitionYaml('core_users', { rule: WIDER }) });
    expect(without.fields).toEqual(['rule']);
    expect(judgeChange(without, { settings }).verdict).toBe('refused');
    const old = { core_users: definitionYaml('core_users', { reason: 'First cut.' }) };
    const repeated = changeOf('core_users', old, { core_users: definitionYaml('core_users', { rule: WIDER, reason: 'First cut.' }) });
    const verdict = judgeChange(repeated, { settings, impact: { before: 10, after: 10, added: 0, removed: 0 } });
    expect(verdict.verdict).toBe('refused');
    expect(verdict.reasons[0]).toContain('needs a new change_reason (the published one is "First cut.")');
  });

  it('accept a core rule change with a new change_reason that moves the size within the set share', () => {
    const change = changeOf('core_users', published, {
      core_users: definitionYaml('core_users', { rule: WIDER, reason: 'Monthly view.' }),
    });
    expect(judgeStatically(change).measure_size).toBe(true);
    expect(judgeChange(change, { settings, impact: { before: 100, after: 125, added: 30, removed: 5 } }).verdict).toBe('accepted');
  });

  it('hold a core rule change that moves the size by more than the set share until it is approved', () => {
    const change = changeOf('core_users', published, {
      core_users: definitionYaml('core_users', { rule: WIDER, reason: 'Monthly view.' }),
    });
    const impact = { before: 100, after: 126, added: 26, removed: 0 };
    const pending = judgeChange(change, { settings, impact });
    expect(pending.verdict).toBe('pending');
    expect(pending.reasons[0]).toContain('+26%');
    expect(judgeChange(change, { settings: { approval_size_change_pct: 30 }, impact }).verdict).toBe('accepted');
    const hash = change.after?.hash as string;
    const approved = judgeChange(change, { settings, impact, decision: decision(hash, 'approved') });
    expect(approved).toMatchObject({ verdict: 'accepted', needs_approval: true, decision: { by: 'dana' } });
    expect(judgeChange(change, { settings, impact, decision: decision(hash, 'rejected') }).verdict).toBe('refused');
  });

  it('hold a rule change from an empty cohort, and one whose size move was not measured', () => {
    const change = changeOf('core_users', published, {
      core_users: definitionYaml('core_users', { rule: WIDER, reason: 'Monthly view.' }),
    });
    expect(judgeChange(change, { settings, impact: { before: 0, after: 3, added: 3, removed: 0 } }).verdict).toBe('pending');
    expect(judgeChange(change, { settings }).verdict).toBe('pending');
  });

  it('hold a core cohort tier or cadence change until it is approved, whatever its size', () => {
    for (const working of [definitionYaml('core_users', { tier: 'strategic' }), definitionYaml('core_users', { cadence: 'weekly' })]) {
      const change = changeOf('core_users', published, { core_users: working });
      expect(judgeStatically(change)).toMatchObject({ refusals: [], measure_size: false });
      expect(judgeChange(change, { settings }).verdict).toBe('pending');
    }
  });

  it('accept retiring a core cohort with deprecated', () => {
    const change = changeOf('core_users', published, {
      core_users: definitionYaml('core_users', { extra: 'deprecated:\n  reason: Replaced.' }),
    });
    expect(change.kind).toBe('deprecated');
    expect(judgeChange(change, { settings }).verdict).toBe('accepted');
  });

  it('put no guardrail on cohorts that were not core when published', () => {
    const tactical = { side_users: definitionYaml('side_users', { tier: 'tactical' }) };
    const change = changeOf('side_users', tactical, { side_users: definitionYaml('side_users', { tier: 'core', rule: WIDER }) });
    expect(judgeChange(change, { settings }).verdict).toBe('accepted');
  });

  it('see no change when only the formatting of a definition changed', () => {
    const reformatted = definitionYaml('core_users').replace('  event: login\n  within: 7d', '  within: 7d\n  event: login');
    expect(changeOf('core_users', published, { core_users: reformatted }).kind).toBe('unchanged');
  });
});

describe('the line diff of rules', () => {
  it('keeps common lines and shows each replaced line removed, then added', () => {
    const diff = lineDiff(['all:', '  - a', '  - b', '  - c'], ['all:', '  - a', '  - B', '  - c', '  - d']);
    expect(diff.map((l) => `${l.op}${l.text}`)).toEqual([' all:', '   - a', '-  - b', '+  - B', '   - c', '+  - d']);
  });
});

describe('the guardrails settings', () => {
  it('read the approval share from the config file, defaulting to 25 percent, and refuse a bad one', () => {
    expect(parseConfig('', 'cohorts.config.yaml').guardrails.approval_size_change_pct).toBe(25);
    expect(parseConfig('guardrails: {approval_size_change_pct: 10}\n', 'cohorts.config.yaml').guardrails.approval_size_change_pct).toBe(10);
    expect(() => parseConfig('guardrails: {approval_size_change_pct: -1}\n', 'cohorts.config.yaml')).toThrow(ConfigError);
    expect(() => parseConfig('guardrails: {approval_pct: 10}\n', 'cohorts.config.yaml')).toThrow(/guardrails: unknown key "approval_pct"/);
  });
});
