import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cohorts, heldProject, tempDir, projectFolders } from '../support/cli.ts';
import { WARN_ONLY_CONFIG_YAML } from '../support/config.ts';
import { header, writeDefinitions, writeLake } from '../support/lake.ts';

const REPO = resolve(import.meta.dirname, '..', '..');

describe('the cohorts command line', () => {
  let root: string;
  let folders: string[];

  beforeAll(async () => {
    root = await tempDir();
    await writeLake(join(root, 'data'), [
      { event_id: '1', source: 'product', user_id: 'ann', event_name: 'login', ts: '2024-05-30T00:00:00Z' },
      { event_id: '2', source: 'product', user_id: 'bob', event_name: 'login', ts: '2024-05-31T00:00:00Z' },
      { event_id: '3', source: 'product', user_id: 'cy', event_name: 'signup', ts: '2024-05-31T00:00:00Z' },
    ]);
    await writeDefinitions(join(root, 'definitions'), {
      'active_users.yaml': `${header('active_users')}rule:\n  event: login\n  within: 7d\n`,
      'quiet_users.yaml': `${header('quiet_users')}rule:\n  not: {cohort: active_users}\n`,
    });
    // Activation: a login in the two days before the as-of instant.
    await writeFile(join(root, 'cohorts.config.yaml'), `${WARN_ONLY_CONFIG_YAML}metrics:\n  activation: {event: login, within: 2d}\n`);
    folders = projectFolders(root);
  });

  it('validate exits 0 and says how many definitions are valid', async () => {
    const result = await cohorts('validate', ...folders);
    expect(result.code).toBe(0);
    expect(result.stdout).toEqual(['2 definitions valid (2 live, 0 deprecated)']);
    expect(result.stderr).toEqual([]);
  });

  it('run prints a table with every cohort, its version, size, change and status', async () => {
    const result = await cohorts('run', '--as-of', '2024-06-01T00:00:00Z', ...folders);
    expect(result.code).toBe(0);
    const text = result.stdout.join('\n');
    expect(text).toMatch(/active_users\s+v1\s+2\s+\+2\s+-0\s+published/);
    expect(text).toMatch(/quiet_users\s+v1\s+1\s+\+1\s+-0\s+published/);
    expect(text).toContain('3 people, 2 published, 0 held, 0 unchanged');
  });

  it('members prints the current members one per line in byte order', async () => {
    const result = await cohorts('members', 'active_users', ...folders);
    expect(result.stdout).toEqual(['ann', 'bob']);
  });

  it('history lists versions with as_of, status, size, entered, exited and the KPIs', async () => {
    await cohorts('run', '--as-of', '2024-06-06T12:00:00Z', '--cohort', 'active_users', ...folders);
    const result = await cohorts('history', 'active_users', ...folders);
    const text = result.stdout.join('\n');
    expect(text).toMatch(/v1\s+2024-06-01T00:00:00.000Z\s+published\s+2\s+\+2\s+-0\s+none\s+100\.0%\s+0\s+manual/);
    expect(text).toMatch(/v2 \(current\)\s+2024-06-06T12:00:00.000Z\s+published\s+1\s+\+0\s+-1\s+v1\s+0\.0%\s+0\s+manual/);
  });

  it("run --trigger records its text as the versions' trigger, which history shows", async () => {
    // A state folder of its own: the other tests' versions stay as they are.
    const own = [...folders, '--state', join(root, 'trigger-state')];
    await cohorts('run', '--as-of', '2024-06-06T12:00:00Z', '--cohort', 'active_users', '--trigger', 'cron:nightly', ...own);
    const text = (await cohorts('history', 'active_users', ...own)).stdout.join('\n');
    expect(text).toMatch(/v1 \(current\)\s+2024-06-06T12:00:00.000Z\s+published\s+1\s+\+1\s+-0\s+none\s+0\.0%\s+0\s+cron:nightly/);
  });

  it('diff lists who entered and who exited between two versions', async () => {
    const result = await cohorts('diff', 'active_users', '1', '2', ...folders);
    expect(result.stdout).toEqual(['active_users v1 -> v2: 2 -> 1 members, 0 entered, 1 exited', '- ann']);
  });

  it('members --version reads an older version', async () => {
    const result = await cohorts('members', 'active_users', '--version', '1', ...folders);
    expect(result.stdout).toEqual(['ann', 'bob']);
  });

  it('members of an id with no versions says so and asks to check the id, not only to run first', async () => {
    const result = await cohorts('members', 'activ_users', ...folders);
    expect(result.stderr).toEqual([
      `cohort "activ_users" has no versions in ${join(root, 'state')}: check the id (\`cohorts checks\` lists the cohorts refreshed), or run \`cohorts run\` first`,
    ]);
  });

  it('members of a cohort whose only version is held says it is held, not to run first', async () => {
    const held = await heldProject();
    const heldFolders = projectFolders(held);
    expect((await cohorts('run', '--as-of', '2024-06-01T00:00:00Z', ...heldFolders)).stdout.join('\n')).toMatch(
      /big_users\s+v1\s+1\s.*held/,
    );
    expect((await cohorts('members', 'big_users', ...heldFolders)).stderr).toEqual([
      `cohort "big_users" has no published version in ${join(held, 'state')}: its one version is held (\`--version N\` lists a held version's members, \`cohorts history\` shows them)`,
    ]);
    expect((await cohorts('members', 'big_users', '--version', '1', ...heldFolders)).stdout).toEqual(['ann']);
  });

  it('history says what a held version counts entered and exited against: the previous published version, none here', async () => {
    const held = await heldProject();
    const heldFolders = projectFolders(held);
    await cohorts('run', '--as-of', '2024-06-01T00:00:00Z', ...heldFolders);
    await cohorts('run', '--as-of', '2024-06-03T00:00:00Z', ...heldFolders);
    const text = (await cohorts('history', 'big_users', ...heldFolders)).stdout.join('\n');
    // v2 is +2 against no published version, where diff 1 2 says +1: the table and the note say why.
    expect(text).toMatch(/^version\s+as_of\s+status\s+size\s+entered\s+exited\s+against\s/m);
    expect(text).toMatch(/^v2\s+2024-06-03T00:00:00.000Z\s+held\s+2\s+\+2\s+-0\s+none\s/m);
    expect(text).toContain(
      'entered and exited count against the previous published version (against; none: all entered), as the manifests record them, ' +
        'so held versions are not compared with each other; `cohorts diff big_users 1 2` compares two versions directly',
    );
    expect((await cohorts('diff', 'big_users', '1', '2', ...heldFolders)).stdout[0]).toBe(
      'big_users v1 -> v2: 1 -> 2 members, 1 entered, 0 exited',
    );
  });

  it('run and report write a self-contained HTML report of every cohort to the state folder', async () => {
    const result = await cohorts('report', ...folders);
    expect(result.stdout).toEqual([join(root, 'state', 'report', 'index.html')]);
    const index = readFileSync(join(root, 'state', 'report', 'index.html'), 'utf8');
    expect(index).toContain('active_users');
    expect(index).toContain('quiet_users');
    expect(readFileSync(join(root, 'state', 'report', 'catalog.html'), 'utf8')).toContain('quiet_users');
  });

  it("checks prints every check of each cohort's latest version with its status", async () => {
    const result = await cohorts('checks', ...folders);
    expect(result.code).toBe(0);
    const text = result.stdout.join('\n');
    expect(text).toMatch(/active_users v2\s+not_empty\s+pass\s+1\s+1\s+1 members/);
    expect(text).toMatch(/quiet_users v1\s+source\.freshness\[product\]\s+pass/);
  });

  it('checks ID prints the checks of the cohorts named only, and names an id without versions', async () => {
    const result = await cohorts('checks', 'quiet_users', ...folders);
    expect(result.code).toBe(0);
    const rows = result.stdout.join('\n').split('\n').slice(1);
    expect(rows.length).toBeGreaterThan(1);
    const cohortsShown = new Set(rows.map((line) => line.split(/\s+/)[0]));
    expect([...cohortsShown]).toEqual(['quiet_users']);
    const typo = await cohorts('checks', 'quiet_users', 'activ_users', ...folders);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toEqual([
      `cohort "activ_users" has no versions in ${join(root, 'state')}: check the id (\`cohorts checks\` lists the cohorts refreshed), or run \`cohorts run\` first`,
    ]);
  });

  it('run refuses an unknown cohort with one clear line', async () => {
    const result = await cohorts('run', '--cohort', 'nope', ...folders);
    expect(result.code).toBe(2);
    expect(result.stderr).toEqual(['no cohort "nope" in the definitions']);
  });

  it('run refuses a malformed --as-of', async () => {
    const result = await cohorts('run', '--as-of', 'yesterday', ...folders);
    expect(result.stderr[0]).toContain('--as-of must be an ISO-8601 instant');
  });

  it('prints errors as one line without a stack trace and exits non-zero (real process)', () => {
    const missing = join(root, 'no-such-lake');
    const result = spawnSync(
      process.execPath,
      [
        join(REPO, 'bin', 'cohorts.mjs'),
        'run',
        '--data',
        missing,
        '--definitions',
        join(root, 'definitions'),
        '--state',
        join(root, 'state2'),
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    expect(result.status).toBe(1);
    const errorLines = result.stderr.trim().split('\n');
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toContain(`cohorts: no event lake at ${missing}`);
    expect(result.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('validate prints path:line:col lines and exits 1 for a bad definition (real process)', async () => {
    const bad = join(root, 'bad-definitions');
    await writeDefinitions(bad, { 'typo_cohort.yaml': `${header('typo_cohort')}rule:\n  event: login\n  withn: 7d\n` });
    const result = spawnSync(process.execPath, [join(REPO, 'bin', 'cohorts.mjs'), 'validate', '--definitions', bad], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stdout.trim()).toBe(`${join(bad, 'typo_cohort.yaml')}:8:3: rule: unknown key "withn": did you mean "within"?`);
  });
});
