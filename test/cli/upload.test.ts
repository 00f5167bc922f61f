import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { cohorts, tempDir } from '../support/cli.ts';
import { WARN_ONLY_CONFIG_YAML } from '../support/config.ts';
import { header, writeDefinitions, writeLake } from '../support/lake.ts';

const ACTIVE_14D = `${header('active_users')}rule:\n  event: login\n  within: 14d\nchange_reason: Two weeks, like the newsletter.\n`;

describe('cohorts upload', () => {
  let root: string;
  let folders: string[];

  beforeEach(async () => {
    root = await tempDir();
    await writeLake(join(root, 'data'), [
      { event_id: '1', source: 'product', user_id: 'ann', event_name: 'login', ts: '2024-05-30T00:00:00Z' },
      { event_id: '2', source: 'product', user_id: 'bob', event_name: 'signup', ts: '2024-05-31T00:00:00Z' },
    ]);
    await writeDefinitions(join(root, 'definitions'), {
      'active_users.yaml': `${header('active_users')}rule:\n  event: login\n  within: 7d\n`,
      'quiet_users.yaml': `${header('quiet_users')}rule:\n  not: {cohort: active_users}\n`,
      'signups.yaml': `${header('signups')}rule:\n  event: signup\n`,
    });
    await writeFile(join(root, 'cohorts.config.yaml'), WARN_ONLY_CONFIG_YAML);
    folders = ['--data', join(root, 'data'), '--definitions', join(root, 'definitions'), '--state', join(root, 'state'), '--config', join(root, 'cohorts.config.yaml')];
  });

  it('accepts a valid file into the catalog and refreshes that cohort and its dependants as a definition change', async () => {
    // Prepare
    const file = join(root, 'active_users.yaml');
    await writeFile(file, ACTIVE_14D);
    // Act
    const result = await cohorts('upload', file, ...folders);
    // Assess
    expect(result.code).toBe(0);
    expect(await readFile(join(root, 'definitions', 'active_users.yaml'), 'utf8')).toBe(ACTIVE_14D);
    const table = result.stdout.join('\n');
    expect(table).toMatch(/active_users\s+v1/);
    expect(table).toMatch(/quiet_users\s+v1/);
    expect(table).not.toContain('signups');
    const manifest = JSON.parse(await readFile(join(root, 'state', 'snapshots', 'cohort=active_users', 'version=1', 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ trigger: 'definition-change', rationale: 'Two weeks, like the newsletter.' });
    expect(manifest.lineage.run_id).toMatch(/^upload-/);
  });

  it('says what uploading cohorts.config.yaml does: validated as the cloud reads it, it replaces the --config file, and no refresh runs', async () => {
    // Prepare
    const file = join(await tempDir(), 'cohorts.config.yaml');
    const config = `${WARN_ONLY_CONFIG_YAML}metrics:\n  activation: {event: login, within: 7d}\n`;
    await writeFile(file, config);
    // Act
    const result = await cohorts('upload', file, ...folders);
    // Assess
    expect(result.code).toBe(0);
    expect(result.stderr.join('\n')).toContain(`accepted: ${join(root, 'cohorts.config.yaml')}`);
    expect(result.stderr.join('\n')).toContain('the next refresh uses it (no refresh started)');
    expect(await readFile(join(root, 'cohorts.config.yaml'), 'utf8')).toBe(config);
    await expect(readFile(join(root, 'state', 'snapshots', 'cohort=active_users', 'current.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    // A salt from the environment works locally, but not in the cloud: the upload says so.
    await writeFile(file, 'privacy:\n  salt_env: COHORTS_SALT\n');
    const refused = await cohorts('upload', file, ...folders);
    expect(refused.code).toBe(1);
    expect(refused.stderr.join('\n')).toMatch(/incoming\/cohorts\.config\.yaml:2:3: privacy\.salt_env is not supported in the cloud/);
    expect(await readFile(join(root, 'cohorts.config.yaml'), 'utf8')).toBe(config);
  });

  it('rejects an invalid file with path:line:col errors and a Definition Rejected event, and changes nothing', async () => {
    const file = join(root, 'active_users.yaml');
    await writeFile(file, `${header('active_users')}rule:\n  event: login\n  within: a week\n`);
    const before = await readFile(join(root, 'definitions', 'active_users.yaml'), 'utf8');

    const result = await cohorts('upload', file, ...folders);

    expect(result.code).toBe(1);
    expect(result.stderr.join('\n')).toMatch(/incoming\/active_users\.yaml:8:\d+: rule\.within must be a duration/);
    expect(await readFile(join(root, 'definitions', 'active_users.yaml'), 'utf8')).toBe(before);
    const events = (await readFile(join(root, 'state', 'events.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
    expect(events).toEqual([expect.objectContaining({ 'detail-type': 'Definition Rejected', detail: expect.objectContaining({ path: 'incoming/active_users.yaml' }) })]);
    await expect(readFile(join(root, 'state', 'snapshots', 'cohort=active_users', 'current.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('says so in one line when the file does not exist', async () => {
    const result = await cohorts('upload', join(root, 'nope.yaml'), ...folders);

    expect(result.code).toBe(1);
    expect(result.stderr).toEqual([`${join(root, 'nope.yaml')}: no such file`]);
  });

  it('refuses a config upload that changes privacy or guardrails, naming the file to change instead, and keeps the config', async () => {
    // Prepare
    const file = join(await tempDir(), 'cohorts.config.yaml');
    await writeFile(file, `${WARN_ONLY_CONFIG_YAML}privacy:\n  suppression_list: privacy/nobody.txt\nguardrails: {approval_size_change_pct: 100000}\n`);
    const before = await readFile(join(root, 'cohorts.config.yaml'), 'utf8');
    // Act
    const result = await cohorts('upload', file, ...folders);
    // Assess
    expect(result.code).toBe(1);
    const live = join(root, 'cohorts.config.yaml');
    const output = result.stderr.join('\n');
    expect(output).toMatch(new RegExp(`incoming/cohorts\\.config\\.yaml:\\d+:1: privacy differs from the live config \\(${live}\\), and an upload may not change privacy or guardrails`));
    expect(output).toMatch(/incoming\/cohorts\.config\.yaml:\d+:1: guardrails differs from the live config/);
    expect(output).toContain(`have someone allowed to write ${live} itself`);
    expect(await readFile(live, 'utf8')).toBe(before);
    const events = (await readFile(join(root, 'state', 'events.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
    expect(events).toEqual([expect.objectContaining({ 'detail-type': 'Definition Rejected' })]);
    // Writing out a setting at its default changes nothing, so it is no change of privacy.
    await writeFile(file, `${WARN_ONLY_CONFIG_YAML}privacy:\n  suppression_list: privacy/suppressed.txt\nguardrails: {approval_size_change_pct: 25}\n`);
    expect((await cohorts('upload', file, ...folders)).code).toBe(0);
  });

  it('refuses a file over 1 MiB from its size, and a folder, in one line', async () => {
    // Prepare
    const file = join(root, 'active_users.yaml');
    await writeFile(file, `${ACTIVE_14D}limitations: "${'x'.repeat(1024 * 1024)}"\n`);
    // Act
    const result = await cohorts('upload', file, ...folders);
    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr.join('\n')).toMatch(/incoming\/active_users\.yaml: is \d+ bytes: an upload may be at most 1048576 bytes \(1 MiB\)/);
    await expect(readFile(join(root, 'definitions', 'incoming', 'active_users.yaml'))).rejects.toMatchObject({ code: 'ENOENT' });
    const folder = await tempDir();
    expect((await cohorts('upload', folder, ...folders)).stderr).toEqual([`${folder}: is a folder, not a definition file`]);
  });
});
