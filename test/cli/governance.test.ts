import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../../shared/store/manifest.ts';
import { cohorts, tempDir, projectFolders } from '../support/cli.ts';
import { WARN_ONLY_CONFIG_YAML } from '../support/config.ts';
import { writeDefinitions, writeLake } from '../support/lake.ts';
import { definitionYaml, LOGIN_EVENTS, MONTH_OF_LOGINS, WEEK_OF_LOGINS } from '../governance/support.ts';

const AS_OF = '2024-06-01T00:00:00Z';
const EVENTS = LOGIN_EVENTS;
const WEEK = WEEK_OF_LOGINS;
const MONTH = MONTH_OF_LOGINS;
const DEFINITIONS = {
  'core_users.yaml': definitionYaml('core_users', { rule: WEEK }),
  'side_users.yaml': definitionYaml('side_users', { tier: 'tactical', rule: '  not: {cohort: core_users}' }),
};

describe('guardrails and approvals on the command line', () => {
  let root: string;
  let folders: string[];
  const definition = (name: string) => join(root, 'definitions', name);
  const members = async (id: string) => (await cohorts('members', id, ...folders)).stdout;
  const manifest = async (id: string, version: number) =>
    JSON.parse(await readFile(join(root, 'state', 'snapshots', `cohort=${id}`, `version=${version}`, 'manifest.json'), 'utf8')) as Manifest;
  const run = (asOf: string, ...extra: string[]) =>
    cohorts('run', '--as-of', asOf, '--author', 'ann <ann@example.com>', ...extra, ...folders);

  beforeEach(async () => {
    root = await tempDir();
    await writeLake(join(root, 'data'), EVENTS);
    await writeDefinitions(join(root, 'definitions'), DEFINITIONS);
    await writeFile(join(root, 'cohorts.config.yaml'), WARN_ONLY_CONFIG_YAML);
    folders = projectFolders(root);
    expect((await run(AS_OF)).code).toBe(0);
  });

  it('plan and run refuse a core rule change without a change_reason, and the run refreshes nothing of it', async () => {
    await writeFile(definition('core_users.yaml'), definitionYaml('core_users', { rule: MONTH }));
    const plan = await cohorts('plan', '--as-of', AS_OF, ...folders);
    expect(plan.code).toBe(1);
    const text = plan.stdout.join('\n');
    expect(text).toMatch(/~ core_users \(core, changed: rule\)\s+refused/);
    expect(text).toContain('  - within: 7d');
    expect(text).toContain('  + within: 30d');
    expect(text).toContain('members on the current data: 2 -> 4 members (+2 -0, +100%)');
    expect(text).toContain('dependants: side_users (2 -> 0 members (+0 -2, -100%))');
    expect(text).toContain('needs a new change_reason');

    const result = await run('2024-06-01T06:00:00Z');
    expect(result.code).toBe(1);
    expect(result.stderr.join('\n')).toContain('core_users: changing the rule of core cohort "core_users" needs a new change_reason');
    // The new version was refreshed with the accepted (weekly) rule.
    expect(await members('core_users')).toEqual(['ann', 'bob']);
    expect((await manifest('core_users', 2)).definition.version).toBe(1);
    const history = (await cohorts('history', 'core_users', ...folders)).stdout.join('\n');
    expect(history).toMatch(/refused\s+\S+\s+refused\s+[0-9a-f]{12}\s+ann <ann@example.com>/);
  });

  it("refuse removing a core cohort's file and keep refreshing it from its accepted definition", async () => {
    await writeDefinitions(join(root, 'definitions'), { 'side_users.yaml': definitionYaml('side_users', { tier: 'tactical' }) });
    await rm(definition('core_users.yaml'));
    const plan = await cohorts('plan', '--as-of', AS_OF, ...folders);
    expect(plan.code).toBe(1);
    expect(plan.stdout.join('\n')).toMatch(/- core_users \(core, removed\)\s+refused/);
    const result = await run('2024-06-01T06:00:00Z');
    expect(result.code).toBe(1);
    expect(result.stderr.join('\n')).toContain('retire it with `deprecated');
    expect((await manifest('core_users', 2)).definition.version).toBe(1);
  });

  it('accept retiring a core cohort with deprecated, as a new definition version', async () => {
    await writeFile(definition('side_users.yaml'), definitionYaml('side_users', { tier: 'tactical' }));
    await writeFile(
      definition('core_users.yaml'),
      definitionYaml('core_users', { rule: WEEK, extra: 'deprecated:\n  reason: Merged into side_users.\n  replaced_by: side_users' }),
    );
    const plan = await cohorts('plan', '--as-of', AS_OF, ...folders);
    expect(plan.code).toBe(0);
    expect(plan.stdout.join('\n')).toMatch(/! core_users \(core, deprecated\)\s+ok/);
    expect((await run('2024-06-01T06:00:00Z')).code).toBe(0);
    const history = (await cohorts('history', 'core_users', ...folders)).stdout.join('\n');
    expect(history).toMatch(/d2\s+\S+\s+deprecated/);
  });

  it('hold a large core rule change until it is approved, then refresh with it and record who approved it', async () => {
    await writeFile(definition('core_users.yaml'), definitionYaml('core_users', { rule: MONTH, reason: 'A month shows regulars better.' }));
    const plan = await cohorts('plan', '--as-of', AS_OF, ...folders);
    expect(plan.code).toBe(0);
    expect(plan.stdout.join('\n')).toMatch(/core_users \(core, changed: rule, change_reason\)\s+needs approval/);
    expect(plan.stdout.join('\n')).toContain('more than guardrails.approval_size_change_pct (25%)');

    const waiting = await run('2024-06-01T06:00:00Z');
    expect(waiting.code).toBe(0);
    expect(waiting.stderr.join('\n')).toContain('core_users: the change waits for an approval');
    expect(await members('core_users')).toEqual(['ann', 'bob']);
    const alerts = (await readFile(join(root, 'state', 'alerts.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { title: string; body: string });
    const waitAlert = alerts.find((a) => a.title.startsWith('definition changes'));
    expect(waitAlert?.title).toContain('1 waiting for approval (core_users)');
    expect(waitAlert?.body).toContain('core_users (owner: test-team)');
    // A second run does not alert the owner again.
    await run('2024-06-01T07:00:00Z');
    const again = (await readFile(join(root, 'state', 'alerts.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .filter((l) => l.includes('definition changes'));
    expect(again).toHaveLength(1);

    expect((await cohorts('approve', 'core_users', '--by', 'dana', ...folders)).stderr.join('\n')).toContain(
      'usage: cohorts approve ID --by NAME --note WHY',
    );
    const approved = await cohorts('approve', 'core_users', '--by', 'dana', '--note', 'Reviewed the new members.', ...folders);
    expect(approved.code).toBe(0);
    const twice = await cohorts('approve', 'core_users', '--by', 'eve', '--note', 'twice', ...folders);
    expect(twice.stderr.join('\n')).toContain('already approved by dana');
    // Nothing waits any more: a usage error, as for a definition that needs no approval (README, exit codes).
    expect(twice.code).toBe(2);
    const rejectAfter = await cohorts('reject', 'core_users', '--by', 'eve', '--note', 'too late', ...folders);
    expect(rejectAfter.stderr.join('\n')).toContain('already approved by dana');
    expect(rejectAfter.code).toBe(2);

    expect((await run('2024-06-01T08:00:00Z')).code).toBe(0);
    expect(await members('core_users')).toEqual(['ann', 'bob', 'cy', 'dee']);
    const latest = await manifest('core_users', 4);
    expect(latest.definition.version).toBe(2);
    const entry = JSON.parse(await readFile(join(root, 'state', 'catalog', 'cohort=core_users', 'version=2.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(entry).toMatchObject({
      hash: latest.definition.hash,
      change: 'changed',
      author: 'ann <ann@example.com>',
      change_reason: 'A month shows regulars better.',
      approval: { by: 'dana', note: 'Reviewed the new members.' },
    });
    // Every accepted definition version was announced in the local event log, as EventBridge would carry it.
    const logged = (await readFile(join(root, 'state', 'events.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { 'detail-type': string; detail: Record<string, unknown> });
    const accepted = logged.filter((e) => e['detail-type'] === 'Definition Accepted').map((e) => e.detail);
    expect(accepted.map((d) => [d.cohort, d.version, d.change])).toEqual([
      ['core_users', 1, 'added'],
      ['side_users', 1, 'added'],
      ['core_users', 2, 'changed'],
    ]);
    expect(accepted[2]).toMatchObject({
      hash: latest.definition.hash,
      author: 'ann <ann@example.com>',
      approval: { by: 'dana' },
      change_reason: 'A month shows regulars better.',
    });
    const history = (await cohorts('history', 'core_users', ...folders)).stdout.join('\n');
    expect(history).toMatch(/v4 \(current\).*d2 [0-9a-f]{12}/);
    expect(history).toMatch(
      /d2\s+\S+\s+changed\s+[0-9a-f]{12}\s+ann <ann@example.com>\s+A month shows regulars better\.\s+approved by dana: Reviewed the new members\./,
    );
    expect(history).toMatch(/pending\s+\S+\s+pending/);
  });

  it('refuse a rejected change in every later run', async () => {
    await writeFile(definition('core_users.yaml'), definitionYaml('core_users', { cadence: 'weekly' }));
    expect((await cohorts('plan', '--as-of', AS_OF, ...folders)).stdout.join('\n')).toContain('its cadence changes from daily to weekly');
    expect((await cohorts('reject', 'core_users', '--by', 'dana', '--note', 'Daily calls need daily data.', ...folders)).code).toBe(0);
    const plan = await cohorts('plan', '--as-of', AS_OF, ...folders);
    expect(plan.code).toBe(1);
    expect(plan.stdout.join('\n')).toContain('rejected by dana');
    const result = await run('2024-06-01T06:00:00Z');
    expect(result.code).toBe(1);
    expect((await manifest('core_users', 2)).definition.cadence).toBe('daily');
  });

  it('approve refuses what needs no approval or cannot be approved', async () => {
    const approve = () => cohorts('approve', 'core_users', '--by', 'dana', '--note', 'ok', ...folders);
    expect((await approve()).stderr.join('\n')).toContain('is the published one');
    await writeFile(definition('core_users.yaml'), definitionYaml('core_users', { rule: MONTH }));
    expect((await approve()).stderr.join('\n')).toContain('needs a new change_reason');
    await writeFile(definition('side_users.yaml'), definitionYaml('side_users', { tier: 'tactical', rule: MONTH }));
    expect((await cohorts('approve', 'side_users', '--by', 'dana', '--note', 'ok', ...folders)).stderr.join('\n')).toContain(
      'needs no approval',
    );
  });

  it('approve with an invalid definition fails as plan does (exit 1), naming the problem', async () => {
    await writeFile(definition('side_users.yaml'), definitionYaml('side_users', { tier: 'tactical', cadence: 'fortnightly' }));
    const approve = await cohorts('approve', 'core_users', '--by', 'dana', '--note', 'ok', ...folders);
    const plan = await cohorts('plan', '--as-of', AS_OF, ...folders);
    expect(approve.stderr.join('\n')).toMatch(/side_users\.yaml:\d+:\d+: cadence must be one of/);
    expect(approve.code).toBe(1);
    expect(plan.code).toBe(1);
  });
});
