import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { cohorts, tempDir, projectFolders } from '../support/cli.ts';
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
    folders = projectFolders(root);
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
    const manifest = JSON.parse(
      await readFile(join(root, 'state', 'snapshots', 'cohort=active_users', 'version=1', 'manifest.json'), 'utf8'),
    );
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
    await expect(readFile(join(root, 'state', 'snapshots', 'cohort=active_users', 'current.json'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
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
    const events = (await readFile(join(root, 'state', 'events.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events).toEqual([
      expect.objectContaining({
        'detail-type': 'Definition Rejected',
        detail: expect.objectContaining({ path: 'incoming/active_users.yaml' }),
      }),
    ]);
    await expect(readFile(join(root, 'state', 'snapshots', 'cohort=active_users', 'current.json'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('uploads a .csv as a list: it replaces lists/<name>.csv and refreshes the cohorts reading it; a bad one changes nothing', async () => {
    // Prepare: vip_users reads the list vips, which holds bob only
    await mkdir(join(root, 'definitions', 'lists'));
    await writeFile(join(root, 'definitions', 'lists', 'vips.csv'), 'bob\n');
    await writeDefinitions(join(root, 'definitions'), { 'vip_users.yaml': `${header('vip_users')}rule:\n  list: vips\n` });
    const file = join(await tempDir(), 'vips.csv');
    await writeFile(file, ' ann \r\nbob\r\n');
    // Act
    const accepted = await cohorts('upload', file, ...folders);
    // Assess: the list replaced as uploaded, vip_users refreshed with it
    expect(accepted.code).toBe(0);
    expect(accepted.stderr.join('\n')).toContain(`accepted: ${join(root, 'definitions', 'lists', 'vips.csv')}`);
    expect(await readFile(join(root, 'definitions', 'lists', 'vips.csv'), 'utf8')).toBe(' ann \r\nbob\r\n');
    const manifest = JSON.parse(await readFile(join(root, 'state', 'snapshots', 'cohort=vip_users', 'version=1', 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ trigger: 'list-change', rationale: 'list "vips" changed', size: 2 });
    expect(manifest.lineage.lists).toEqual([{ name: 'vips', hash: expect.any(String), entries: 2 }]);

    // Act: a list with another column
    await writeFile(file, 'ann\ncid,Cid Smith\n');
    const rejected = await cohorts('upload', file, ...folders);
    // Assess: refused at file:line, the list as it was
    expect(rejected.code).toBe(1);
    expect(rejected.stderr.join('\n')).toContain(`${join(root, 'definitions', 'incoming', 'lists', 'vips.csv')}:2:1: line holds a comma`);
    expect(await readFile(join(root, 'definitions', 'lists', 'vips.csv'), 'utf8')).toBe(' ann \r\nbob\r\n');
  });

  it('says so in one line when the file does not exist, and what upload reads, as ingest and test do', async () => {
    const result = await cohorts('upload', join(root, 'nope.yaml'), ...folders);

    expect(result.code).toBe(2);
    expect(result.stderr).toEqual([
      `${join(root, 'nope.yaml')}: no such file; cohorts upload reads a definition, a named action or cohorts.config.yaml (.yaml), or a list (.csv)`,
    ]);
  });

  it('keeps a config upload that changes privacy or guardrails waiting for `approve cohorts.config.yaml --hash`, which makes it the live config', async () => {
    // Prepare
    const live = join(root, 'cohorts.config.yaml');
    const before = await readFile(live, 'utf8');
    const file = join(await tempDir(), 'cohorts.config.yaml');
    const first = `${WARN_ONLY_CONFIG_YAML}privacy:\n  suppression_list: privacy/nobody.txt\n`;
    const second = `${first}guardrails: {approval_size_change_pct: 100000}\n`;
    await writeFile(file, first);
    const firstHash = createHash('sha256').update(first).digest('hex');
    const secondHash = createHash('sha256').update(second).digest('hex');
    // Act: upload one, then a newer one that replaces it.
    const waiting = await cohorts('upload', file, ...folders);
    await writeFile(file, second);
    const replaced = await cohorts('upload', file, ...folders);
    // Assess: both wait; the live config, the events and the catalog are unchanged.
    expect(waiting.code).toBe(0);
    expect(waiting.stderr.join('\n')).toContain('waiting for an approval: the config changes privacy, so');
    expect(replaced.stderr.join('\n')).toContain('waiting for an approval: the config changes privacy and guardrails');
    expect(replaced.stderr.join('\n')).toContain('approve with: cohorts approve cohorts.config.yaml --by NAME --note WHY');
    expect(replaced.stderr.join('\n')).toMatch(/Config upload waits for an approval: it changes privacy and guardrails/);
    expect(await readFile(live, 'utf8')).toBe(before);
    await expect(readFile(join(root, 'state', 'events.jsonl'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });

    // The first upload's hash no longer names what waits; the second's does.
    const stale = await cohorts(
      'approve',
      'cohorts.config.yaml',
      '--hash',
      firstHash.slice(0, 12),
      '--by',
      'dana',
      '--note',
      'ok',
      ...folders,
    );
    expect(stale.code).toBe(2);
    expect(stale.stderr.join('\n')).toContain(
      `config ${firstHash.slice(0, 12)} is not the one waiting: a newer upload (${secondHash.slice(0, 12)}, changing privacy and guardrails) replaced it`,
    );
    expect(await readFile(live, 'utf8')).toBe(before);
    const approved = await cohorts(
      'approve',
      'cohorts.config.yaml',
      '--hash',
      secondHash.slice(0, 12),
      '--by',
      'dana',
      '--note',
      'Opt-outs moved to the new list.',
      ...folders,
    );
    expect(approved.code).toBe(0);
    expect(approved.stdout).toEqual([
      `cohorts.config.yaml: config ${secondHash.slice(0, 12)} (changing privacy and guardrails) approved by dana`,
    ]);
    expect(await readFile(live, 'utf8')).toBe(second);
    const decision = JSON.parse(
      await readFile(join(root, 'state', 'catalog', 'decisions', 'cohort=cohorts.config.yaml', `${secondHash}.json`), 'utf8'),
    ) as unknown;
    expect(decision).toEqual({
      cohort: 'cohorts.config.yaml',
      hash: secondHash,
      decision: 'approved',
      by: 'dana',
      note: 'Opt-outs moved to the new list.',
      at: expect.any(String),
    });
    // Decided once: nothing waits any more.
    const again = await cohorts('reject', 'cohorts.config.yaml', '--by', 'eve', '--note', 'no', ...folders);
    expect(again.code).toBe(2);
    expect(again.stderr.join('\n')).toContain('nothing to reject: no config upload waits for an approval (the last upload');
    expect(again.stderr.join('\n')).toContain('was approved by dana');
  });

  it('reject discards a waiting config upload; approving one over a live config changed since is refused', async () => {
    // Prepare
    const live = join(root, 'cohorts.config.yaml');
    const before = await readFile(live, 'utf8');
    const file = join(await tempDir(), 'cohorts.config.yaml');
    await writeFile(file, `${WARN_ONLY_CONFIG_YAML}guardrails: {approval_size_change_pct: 100000}\n`);
    expect((await cohorts('upload', file, ...folders)).code).toBe(0);
    // Act
    const rejected = await cohorts('reject', 'cohorts.config.yaml', '--by', 'dana', '--note', 'Approvals stay on.', ...folders);
    // Assess
    expect(rejected.code).toBe(0);
    expect(rejected.stderr.join('\n')).toContain('the live config is unchanged');
    expect(await readFile(live, 'utf8')).toBe(before);
    expect((await cohorts('approve', 'cohorts.config.yaml', '--by', 'eve', '--note', 'ok', ...folders)).stderr.join('\n')).toContain(
      'was rejected by dana',
    );
    expect(await readFile(live, 'utf8')).toBe(before);

    // A waiting upload, then an accepted one (no governed change): approving the first would undo the second.
    await writeFile(file, `${WARN_ONLY_CONFIG_YAML}guardrails: {approval_size_change_pct: 50}\n`);
    expect((await cohorts('upload', file, ...folders)).code).toBe(0);
    const accepted = `${WARN_ONLY_CONFIG_YAML}# a comment\n`;
    await writeFile(file, accepted);
    expect((await cohorts('upload', file, ...folders)).stderr.join('\n')).toContain('accepted');
    const late = await cohorts('approve', 'cohorts.config.yaml', '--by', 'eve', '--note', 'ok', ...folders);
    expect(late.code).toBe(2);
    expect(late.stderr.join('\n')).toContain(`the live config ${live} changed since config`);
    expect(await readFile(live, 'utf8')).toBe(accepted);
    // Writing out a setting at its default changes nothing, so it needs no approval.
    await writeFile(
      file,
      `${WARN_ONLY_CONFIG_YAML}privacy:\n  suppression_list: privacy/suppressed.txt\nguardrails: {approval_size_change_pct: 25}\n`,
    );
    const defaults = await cohorts('upload', file, ...folders);
    expect(defaults.code).toBe(0);
    expect(defaults.stderr.join('\n')).toContain('the project config is replaced');
  });

  it('refuses a file over 1 MiB from its size, and a folder, in one line', async () => {
    // Prepare
    const file = join(root, 'active_users.yaml');
    await writeFile(file, `${ACTIVE_14D}limitations: "${'x'.repeat(1024 * 1024)}"\n`);
    // Act
    const result = await cohorts('upload', file, ...folders);
    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr.join('\n')).toMatch(
      /incoming\/active_users\.yaml: is \d+ bytes: an upload may be at most 1048576 bytes \(1 MiB\)/,
    );
    await expect(readFile(join(root, 'definitions', 'incoming', 'active_users.yaml'))).rejects.toMatchObject({ code: 'ENOENT' });
    const folder = await tempDir();
    expect((await cohorts('upload', folder, ...folders)).stderr).toEqual([`${folder}: is a folder, not a definition file`]);
    const listFolder = join(folder, 'vips.csv');
    await mkdir(listFolder);
    expect((await cohorts('upload', listFolder, ...folders)).stderr).toEqual([`${listFolder}: is a folder, not a list (.csv)`]);
  });
});
