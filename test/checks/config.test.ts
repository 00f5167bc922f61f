import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, loadConfig, parseConfig } from '../../shared/config/config.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cohorts-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const DAY_MS = 86_400_000;

/** Writes a config file and loads it. */
async function load(text: string) {
  const path = join(dir, 'cohorts.config.yaml');
  await writeFile(path, text);
  return loadConfig(path);
}

/** The error lines of an invalid config text. */
function problems(text: string): string[] {
  try {
    parseConfig(text, 'cohorts.config.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  throw new Error('the config was accepted');
}

describe('the project config', () => {
  it('falls back to the documented defaults when the file does not exist', async () => {
    const config = await loadConfig(join(dir, 'missing.yaml'));
    expect(config).toBe(DEFAULT_CONFIG);
    expect(config).toEqual({
      defaults: { freshness_hours: 26 },
      sources: {},
      checks: {
        freshness: { warn: 1, fail: 2 },
        volume: { warn: 3.5, fail: 6, min_history_days: 7 },
        invalid_rows: { warn: 1, fail: 10 },
        duplicates: { warn: 0.5, fail: 5 },
        unmapped_ids: { warn: 5, fail: 25 },
        identity_conflicts: { warn: 1 },
        dt_mismatch: { warn: 1 },
        staleness: { realtime: 0.25, hourly: 2, daily: 26, weekly: 170, monthly: 672, quarterly: 672 },
      },
      guardrails: { approval_size_change_pct: 25 },
      metrics: {
        activation: {
          events: ['feature_used'],
          sources: ['product'],
          where: [],
          window: { kind: 'within', duration: { text: '14d', ms: 14 * DAY_MS } },
        },
        value: {
          events: ['invoice_paid'],
          sources: ['billing'],
          where: [],
          window: { kind: 'within', duration: { text: '30d', ms: 30 * DAY_MS } },
        },
      },
      events: { member_events_max: 1000 },
      privacy: { personal_properties: [], suppression_list: 'privacy/suppressed.txt' },
      tiles: {},
    });
  });

  it('takes staleness bounds per cadence and the member events limit, keeping the other defaults', async () => {
    const config = await load(['checks:', '  staleness: {daily: 30, hourly: 0.5}', 'events:', '  member_events_max: 0'].join('\n'));
    expect(config.checks.staleness).toMatchObject({ daily: 30, hourly: 0.5, weekly: 170 });
    expect(config.events).toEqual({ member_events_max: 0 });
    await expect(load('checks:\n  staleness: {daily: 700}\n')).rejects.toThrow(/staleness\.daily.*at most 672 hours/);
    await expect(load('checks:\n  staleness: {fortnightly: 300}\n')).rejects.toThrow(/fortnightly/);
    await expect(load('events:\n  member_events_max: -1\n')).rejects.toThrow(/member_events_max.*whole number of at least 0/);
  });

  it('treats an empty file or one holding only comments as all defaults', async () => {
    expect(await load('')).toEqual(DEFAULT_CONFIG);
    expect(await load('# nothing configured yet\n')).toEqual(DEFAULT_CONFIG);
  });

  it('keeps the defaults it does not override, per source and per check', async () => {
    const config = await load(
      [
        'defaults:',
        '  freshness_hours: 30',
        'sources:',
        '  billing:',
        '    freshness_hours: 48',
        '    expected: true',
        '  product:',
        '    mapped: false',
        'checks:',
        '  volume: {warn: 4}',
        '  dt_mismatch: {warn: 5, fail: 100}',
        '',
      ].join('\n'),
    );
    expect(config.defaults.freshness_hours).toBe(30);
    expect(config.sources).toEqual({ billing: { freshness_hours: 48, expected: true }, product: { expected: false, mapped: false } });
    expect(config.checks.volume).toEqual({ warn: 4, fail: 6, min_history_days: 7 });
    expect(config.checks.dt_mismatch).toEqual({ warn: 5, fail: 100 });
    expect(config.checks.duplicates).toEqual(DEFAULT_CONFIG.checks.duplicates);
  });

  it('names an unknown key with its line and column', () => {
    expect(problems('checks:\n  volume:\n    warn_z: 3\n')).toEqual([
      'cohorts.config.yaml:3:5: checks.volume: unknown key "warn_z": did you mean "warn"?',
    ]);
    expect(problems('sources:\n  billing:\n    freshnes_hours: 48\n')).toEqual([
      'cohorts.config.yaml:3:5: sources.billing: unknown key "freshnes_hours": did you mean "freshness_hours"?',
    ]);
    expect(problems('default:\n  freshness_hours: 12\n')).toEqual([
      'cohorts.config.yaml:1:1: unknown key "default": did you mean "defaults"?',
    ]);
  });

  it('reads the tiles retention and points at a retention that is not a positive number of days', () => {
    expect(parseConfig('tiles:\n  retention_days: 30\n', 'cohorts.config.yaml').tiles).toEqual({ retention_days: 30 });
    expect(DEFAULT_CONFIG.tiles).toEqual({});
    expect(problems('tiles:\n  retention_days: 1.5\n')).toEqual([
      'cohorts.config.yaml:2:19: tiles.retention_days must be a positive integer, got 1.5',
    ]);
    expect(problems('tiles:\n  retention: 30\n')).toEqual([
      'cohorts.config.yaml:2:3: tiles: unknown key "retention" (a typo is never ignored)',
    ]);
  });

  it('points at a value of the wrong kind', () => {
    expect(problems('sources:\n  billing:\n    freshness_hours: -4\n')).toEqual([
      'cohorts.config.yaml:3:22: sources.billing.freshness_hours must be a positive number, got -4',
    ]);
    expect(problems('checks:\n  duplicates: {warn: 150}\n')).toEqual([
      'cohorts.config.yaml:2:22: checks.duplicates.warn must be a percentage between 0 and 100, got 150',
    ]);
    expect(problems('sources:\n  billing: {expected: yes}\n')).toEqual([
      'cohorts.config.yaml:2:23: sources.billing.expected must be true or false, got "yes"',
    ]);
  });

  it('refuses a warn level above its fail level', () => {
    expect(problems('checks:\n  invalid_rows:\n    warn: 20\n    fail: 10\n')).toEqual([
      'cohorts.config.yaml:3:11: checks.invalid_rows.warn must not be above fail (10), got 20',
    ]);
  });

  it('refuses a freshness level beyond the days the checks read', () => {
    expect(problems('sources:\n  billing: {freshness_hours: 400}\n')).toEqual([
      'cohorts.config.yaml:2:30: sources.billing.freshness_hours 400 hours times checks.freshness.fail (2) is beyond the 672 hours the source checks read',
    ]);
    expect(
      parseConfig('sources:\n  billing: {freshness_hours: 400}\nchecks:\n  freshness: {fail: 1.5}\n', 'c.yaml').sources.billing
        ?.freshness_hours,
    ).toBe(400);
  });

  it('reports malformed YAML and duplicate keys with their place', () => {
    expect(problems('checks:\n  volume: {warn: 3\n')[0]).toMatch(/^cohorts\.config\.yaml:\d+:\d+: malformed YAML: /);
    expect(problems('defaults:\n  freshness_hours: 12\n  freshness_hours: 13\n')[0]).toMatch(
      /^cohorts\.config\.yaml:3:3: duplicate key: .*unique/,
    );
    expect(problems('- a list\n')).toEqual([
      'cohorts.config.yaml:1:1: the config must be a YAML mapping with keys defaults, sources, checks and metrics',
    ]);
  });

  it('reads the metrics with the keys of an event leaf, replacing a default metric as a whole', () => {
    const config = parseConfig(
      [
        'metrics:',
        '  activation:',
        '    event: [export_created, invite_sent]',
        '    where: {format: csv}',
        '    within: 7d',
        '  value: {within: 90d}',
        '',
      ].join('\n'),
      'c.yaml',
    );
    expect(config.metrics.activation).toEqual({
      events: ['export_created', 'invite_sent'],
      where: [{ property: 'format', ops: { eq: 'csv' } }],
      window: { kind: 'within', duration: { text: '7d', ms: 7 * DAY_MS } },
    });
    // value without event: every event's value (any source) over 90 days.
    expect(config.metrics.value).toEqual({
      events: '*',
      where: [],
      window: { kind: 'within', duration: { text: '90d', ms: 90 * DAY_MS } },
    });
    // Only the metric given is replaced.
    expect(parseConfig('metrics:\n  value: {within: 90d}\n', 'c.yaml').metrics.activation).toEqual(DEFAULT_CONFIG.metrics.activation);
  });

  it('refuses a metric with an unknown key, without a window or without an activation event, with its place', () => {
    expect(problems('metrics:\n  activation: {event: login, within: 14d, count: 2}\n')).toEqual([
      'cohorts.config.yaml:2:43: metrics.activation: unknown key "count" (a typo is never ignored)',
    ]);
    expect(problems('metrics:\n  value:\n    event: invoice_paid\n')).toEqual([
      'cohorts.config.yaml:3:5: metrics.value.within is required',
    ]);
    expect(problems('metrics:\n  activation: {within: 14d}\n')).toEqual([
      'cohorts.config.yaml:2:15: metrics.activation.event is missing: name the event (or a list of events)',
    ]);
    expect(problems('metrics:\n  activation: {event: login, within: 1mo}\n')[0]).toMatch(
      /^cohorts\.config\.yaml:2:38: metrics\.activation\.within must be a duration/,
    );
    expect(problems('metrics:\n  retention: {event: login, within: 14d}\n')).toEqual([
      'cohorts.config.yaml:2:3: metrics: unknown key "retention" (a typo is never ignored)',
    ]);
  });

  it('hands out a frozen config that no caller can change for the next one', () => {
    expect(Object.isFrozen(DEFAULT_CONFIG.checks.volume)).toBe(true);
  });
});

describe('the privacy section of the project config', () => {
  it('defaults to no personal property, the suppression list in the state folder and a generated salt', () => {
    expect(DEFAULT_CONFIG.privacy).toEqual({ personal_properties: [], suppression_list: 'privacy/suppressed.txt' });
  });

  it('reads personal properties, the suppression list key and the salt variable', () => {
    const config = parseConfig(
      'privacy:\n  personal_properties: [email, phone.mobile]\n  suppression_list: optouts/list.txt\n  salt_env: COHORTS_SALT\n',
      'c.yaml',
    );
    expect(config.privacy).toEqual({
      personal_properties: ['email', 'phone.mobile'],
      suppression_list: 'optouts/list.txt',
      salt_env: 'COHORTS_SALT',
    });
  });

  it('refuses a metric that compares a personal property with a value, at the property, and says what to do', async () => {
    const text = [
      'privacy:',
      '  personal_properties: [email, plan]',
      'metrics:',
      '  activation:',
      '    event: login',
      '    where: {email: {exists: true}, plan: {in: [pro, team]}}',
      '    within: 14d',
      '  value:',
      '    within: 30d',
      '    where:',
      '      country: de',
      '      email: ann@example.com',
      '',
    ].join('\n');
    const expected = [
      expect.stringMatching(
        /^cohorts\.config\.yaml:6:36: metrics\.activation\.where\.plan is personal data \(privacy\.personal_properties\): a metric may only test it with exists: true\/false, never compare it with a value .*use exists, or filter on another property$/,
      ),
      expect.stringMatching(/^cohorts\.config\.yaml:12:7: metrics\.value\.where\.email is personal data /),
    ];
    expect(problems(text)).toEqual(expected);
    // Every reader of the file goes through the same parsing: loading it from disk refuses it too.
    await expect(load(text)).rejects.toThrow(ConfigError);
    // The value itself never appears in the message.
    expect(problems(text).join('\n')).not.toContain('ann@example.com');
  });

  it('lets a metric test a personal property for existence, and compare properties that are not personal', () => {
    const config = parseConfig(
      'privacy:\n  personal_properties: [email]\nmetrics:\n  activation: {event: login, within: 14d, where: {email: {exists: true}, plan: pro}}\n',
      'c.yaml',
    );
    expect(config.metrics.activation.where).toEqual([
      { property: 'email', ops: { exists: true } },
      { property: 'plan', ops: { eq: 'pro' } },
    ]);
    // The same metric is fine while email is not declared personal.
    expect(
      parseConfig('metrics:\n  activation: {event: login, within: 14d, where: {email: a@b.c}}\n', 'c.yaml').metrics.activation.where,
    ).toEqual([{ property: 'email', ops: { eq: 'a@b.c' } }]);
  });

  it('names an unknown key and every bad value with its line and column', () => {
    expect(problems('privacy:\n  personal_property: [email]\n')).toEqual([
      'cohorts.config.yaml:2:3: privacy: unknown key "personal_property" (a typo is never ignored)',
    ]);
    expect(problems('privacy:\n  personal_properties: ["e mail"]\n  suppression_list: ../outside.txt\n  salt_env: "not a name"\n')).toEqual(
      [
        expect.stringMatching(/^cohorts\.config\.yaml:2:25: privacy\.personal_properties\[0\] must be a property name/),
        expect.stringMatching(/^cohorts\.config\.yaml:3:21: privacy\.suppression_list must be a key inside the state folder/),
        expect.stringMatching(/^cohorts\.config\.yaml:4:13: privacy\.salt_env must be an environment variable name/),
      ],
    );
  });
});
