import { existsSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../shared/config/config.ts';
import type { PropertyFilter } from '../../shared/language/ast.ts';
import { loadCatalog } from '../../shared/language/catalog.ts';
import { formatProblem } from '../../shared/language/errors.ts';
import { parseDefinition } from '../../shared/language/parse-definition.ts';
import { cohorts, loginProject, tempDir } from '../support/cli.ts';

/** A definition file whose `rule:` block is `rule` (indented by the caller). */
const definition = (rule: string, id = 'bad_input') => `id: ${id}\nname: n\nowner: o\npurpose: p\ncadence: daily\nrule:\n${rule}`;

const problemsOf = (text: string, file = 'd.yaml'): string[] => {
  const result = parseDefinition(text, file);
  return result.ok ? [] : result.problems.map(formatProblem);
};

const configProblems = (text: string): string[] => {
  try {
    parseConfig(text, 'c.yaml');
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(formatProblem);
    throw error;
  }
};

/** Nine levels of ten aliases each: 10^9 values once expanded. */
const billionLaughs = (): string => {
  let text = 'a0: &a0 [lol]\n';
  for (let i = 1; i <= 9; i++) text += `a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]\n`;
  return text;
};

describe('names a JavaScript record would lose (D3)', () => {
  it('refuses __proto__ as a where property at its line and column instead of dropping the condition', () => {
    expect(problemsOf(definition('  event: feature_used\n  where:\n    __proto__: nobody\n    plan: pro\n'))).toEqual([
      expect.stringMatching(/^d\.yaml:9:5: the key "__proto__" is not allowed/),
    ]);
  });

  it('refuses __proto__ as a config source name, unknown keys and all', () => {
    expect(configProblems('sources:\n  __proto__: {expected: true, freshness_hours: 1, bogus_key: 1}\n')).toEqual([
      expect.stringMatching(/^c\.yaml:2:3: the key "__proto__" is not allowed/),
    ]);
  });

  it('keeps constructor and prototype as ordinary property and source names', () => {
    const parsed = parseDefinition(definition('  event: feature_used\n  where: {constructor: a, prototype: b, toString: c}\n'), 'd.yaml');
    if (!parsed.ok) throw new Error(parsed.problems.map(formatProblem).join('\n'));
    const rule = parsed.definition.rule;
    if (rule.kind !== 'event') throw new Error('an event leaf');
    expect(rule.filter.where.map((filter: PropertyFilter) => [filter.property, filter.ops.eq])).toEqual([
      ['constructor', 'a'],
      ['prototype', 'b'],
      ['toString', 'c'],
    ]);
    expect(Object.keys(parseConfig('sources:\n  constructor: {expected: true}\n', 'c.yaml').sources)).toEqual(['constructor']);
  });
});

describe('text no SQL literal can hold, and windows no date can hold (D4)', () => {
  it.each([
    [
      'a where value with NUL',
      '  event: feature_used\n  where: {plan: "a\\0b"}\n',
      /^d\.yaml:8:17: rule\.where\.plan must not contain the NUL character$/,
    ],
    ['an event name with NUL', '  event: "a\\0b"\n', /^d\.yaml:7:10: rule\.event must not contain the NUL character$/],
    [
      'a source with NUL',
      '  event: feature_used\n  source: "prod\\0uct"\n',
      /^d\.yaml:8:11: rule\.source must not contain the NUL character$/,
    ],
    [
      'a lone surrogate event name',
      '  event: "\\uD800"\n',
      /^d\.yaml:7:10: rule\.event must be valid Unicode, got a lone surrogate \\ud800/,
    ],
    [
      'a lone surrogate in an in list',
      '  event: e\n  where: {plan: {in: [a, "\\uDC00"]}}\n',
      /^d\.yaml:8:26: rule\.where\.plan\.in\[1\] must be valid Unicode/,
    ],
    [
      'a lone surrogate beside latest',
      '  latest: {event: e, property: plan}\n  eq: "\\uD800"\n',
      /^d\.yaml:8:7: rule\.eq must be valid Unicode/,
    ],
    ['within: 104000000d', '  event: feature_used\n  within: 104000000d\n', /^d\.yaml:8:11: rule\.within must be at most 100 years/],
    ['before: 5218w', '  event: feature_used\n  before: 5218w\n', /^d\.yaml:8:11: rule\.before must be at most 100 years/],
    [
      'between: [100000000d, 1d]',
      '  event: e\n  between: [100000000d, 1d]\n',
      /^d\.yaml:8:13: rule\.between\[0\] must be at most 100 years/,
    ],
    [
      'velocity window: 60000000d',
      '  velocity: {event: e, window: 60000000d}\n  gte: 0\n',
      /^d\.yaml:7:32: rule\.velocity\.window must be at most 100 years/,
    ],
  ])('refuses %s at its line and column', (_, rule, message) => {
    expect(problemsOf(definition(rule))).toEqual([expect.stringMatching(message)]);
  });

  it('accepts valid Unicode (a surrogate pair) and a window of exactly 100 years', () => {
    expect(problemsOf(definition('  event: "🚀"\n  within: 36525d\n'))).toEqual([]);
    expect(problemsOf(definition('  event: e\n  within: 876600h\n'))).toEqual([]);
    expect(problemsOf(definition('  event: e\n  within: 5217w\n'))).toEqual([]);
  });

  it('refuses the same in the config metrics, naming the setting', () => {
    expect(configProblems('metrics:\n  value: {within: 30d, where: {plan: "a\\0b"}}\n')).toEqual([
      'c.yaml:2:38: metrics.value.where.plan must not contain the NUL character',
    ]);
    expect(configProblems('metrics:\n  value: {within: 104000000d}\n')).toEqual([
      expect.stringMatching(/^c\.yaml:2:19: metrics\.value\.within must be at most 100 years/),
    ]);
    expect(configProblems('metrics:\n  activation: {event: "\\uD800", within: 3d}\n')).toEqual([
      expect.stringMatching(/^c\.yaml:2:23: metrics\.activation\.event must be valid Unicode/),
    ]);
  });
});

describe('hostile YAML is a problem of its file (D6)', () => {
  it('refuses a billion laughs at the first alias, in a definition and in the config', () => {
    expect(problemsOf(definition('  event: feature_used\n') + billionLaughs())).toEqual([
      expect.stringMatching(/^d\.yaml:9:10: aliases \(\*name\) expand to too much data/),
    ]);
    expect(configProblems(billionLaughs())).toEqual([expect.stringMatching(/^c\.yaml:2:10: aliases \(\*name\) expand to too much data/)]);
  });

  it('refuses nesting deeper than 500 levels as too deep, not as malformed YAML', () => {
    const flow = (levels: number) => definition(`  ${'{not: '.repeat(levels)}{event: e}${'}'.repeat(levels)}\n`);
    expect(problemsOf(flow(100_000))).toEqual([
      expect.stringMatching(/^d\.yaml:7:\d+: nested too deeply: mappings and lists may nest at most 500 levels$/),
    ]);
    expect(problemsOf(flow(600))).toEqual([expect.stringMatching(/^d\.yaml:7:\d+: nested too deeply/)]);
    expect(problemsOf(flow(400))).toEqual([]);
  });

  it('reports each bad file of a folder and goes on validating the others', async () => {
    const folder = await tempDir();
    await writeFile(join(folder, 'bomb.yaml'), definition('  event: feature_used\n', 'bomb') + billionLaughs());
    await writeFile(join(folder, 'typo.yaml'), definition('  event: feature_used\n  withn: 3d\n', 'typo'));
    await writeFile(join(folder, 'fine.yaml'), definition('  event: feature_used\n', 'fine'));
    await mkdir(join(folder, 'sub.yaml'));
    await symlink('missing.yaml', join(folder, 'gone.yaml'));
    const catalog = await loadCatalog(folder);
    expect(catalog.problems.map(formatProblem)).toEqual([
      `${join(folder, 'gone.yaml')}: cannot be read: no such file (a link to a file that does not exist?)`,
      `${join(folder, 'sub.yaml')}: is a folder, not a definition file`,
      expect.stringMatching(/bomb\.yaml:9:10: aliases/),
      expect.stringMatching(/typo\.yaml:8:3: rule: unknown key "withn"/),
    ]);
  });
});

describe('a config path that is not a file (D13)', () => {
  it('names the path when --config is a folder', async () => {
    const folder = await tempDir();
    await expect(loadConfig(folder)).rejects.toThrow(`${folder}: is a folder, not the project config file (cohorts.config.yaml)`);
    const result = await cohorts('validate', '--config', folder);
    expect(result.code).toBe(1);
    expect(result.stderr).toEqual([`${folder}: is a folder, not the project config file (cohorts.config.yaml)`]);
  });

  it.each([
    ['validate'],
    ['run'],
    ['members', 'active_users'],
    ['checks'],
    ['plan'],
    ['report'],
    ['upload', 'cohorts.config.yaml'],
    ['forget', 'ann'],
    ['privacy-check'],
    ['sample-data'],
    ['watch'],
    ['history', 'active_users', '--cloud'],
  ])('refuses an explicit --config that does not exist (2) before doing anything: %s', async (...argv) => {
    const { root, common } = await loginProject();
    const missing = join(root, 'cohorts.confg.yaml');
    const result = await cohorts(...argv, ...common, '--state', join(root, 'state'), '--config', missing);
    expect(result.stderr).toEqual([
      `--config ${missing}: no such file (check the path; leave out --config to use ./cohorts.config.yaml or the defaults, or create the file: an empty one holds the defaults)`,
    ]);
    expect(result.code).toBe(2);
    expect(existsSync(join(root, 'state'))).toBe(false);
  });

  it('without --config, a missing ./cohorts.config.yaml means the defaults', async () => {
    const { root } = await loginProject();
    const result = await cohorts('validate', '--definitions', join(root, 'definitions'));
    expect(result.code).toBe(0);
  });
});
