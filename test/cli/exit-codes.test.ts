import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cohorts, loginProject } from '../support/cli.ts';

/** README, "Exit codes": 2 when the command line cannot be acted on, 1 when the command failed or found problems. */
describe('exit codes, one rule for every command', () => {
  let common: string[];

  beforeAll(async () => {
    const project = await loginProject();
    common = [...project.common, '--state', join(project.root, 'state')];
    for (const asOf of ['2024-06-01T00:00:00Z', '2024-06-02T00:00:00Z']) {
      expect((await cohorts('run', '--as-of', asOf, ...common)).code).toBe(0);
    }
  });

  it.each([
    ['members', 'nope'],
    ['members', 'active_users', '--version', '9'],
    ['history', 'nope'],
    ['diff', 'nope', '1', '2'],
    ['diff', 'active_users', '1', '9'],
    ['learn', 'nope', 'a note'],
    ['learn', 'active_users', 'a note', '--version', '9'],
    ['experiment', 'nope', '--metric', 'login', '--within', '14d'],
    ['experiment', 'active_users', '--metric', 'login', '--within', '14d', '--version', '9'],
    ['run', '--cohort', 'nope'],
    ['approve', 'nope', '--by', 'ann', '--note', 'why'],
    ['checks', 'nope'],
  ])('an id or version that does not exist is a usage error (2), and the read leaves no trace: %s %s', async (...argv) => {
    const result = await cohorts(...argv, ...common);
    expect(result.stderr).toHaveLength(1);
    expect(result.code).toBe(2);
    expect(existsSync(join(common.at(-1) as string, 'snapshots', 'cohort=nope'))).toBe(false);
  });

  it.each([
    ['members'],
    ['diff', 'active_users', '1'],
    ['diff', 'active_users', 'one', '2'],
    ['run', '--as-of', 'yesterday'],
    ['history', 'active_users', 'extra'],
    ['learn', 'active_users', '  '],
    ['learn', 'active_users', 'x'.repeat(5000)],
    ['checks', '--ass-of', '2024-06-01'],
    ['forget', 'zed', '  '],
  ])('a missing, extra or bad argument or option is a usage error (2): %s', async (...argv) => {
    expect((await cohorts(...argv, ...common)).code).toBe(2);
  });

  it.each([
    ['privacy-check'],
    ['report'],
    ['checks'],
    ['members', 'active_users'],
    ['history', 'active_users'],
    ['diff', 'active_users', '1', '2'],
    ['learn', 'active_users', 'a note'],
    ['experiment', 'active_users', '--metric', 'login', '--within', '14d'],
  ])(
    'a state folder that does not exist is a usage error (2), not a read of nothing that leaves the folder behind: %s',
    async (command, ...args) => {
      const missing = join(common[1] as string, 'no-such-state');
      const result = await cohorts(command, ...args, ...common, '--state', missing);
      expect(result.stderr).toEqual([
        `no state folder at ${missing}: ${command} has nothing to read (check --state, or run \`cohorts run\` first)`,
      ]);
      expect(result.stdout).toEqual([]);
      expect(result.code).toBe(2);
      expect(existsSync(missing)).toBe(false);
    },
  );

  it('a failure while working is 1: no event lake at --data', async () => {
    const result = await cohorts('run', ...common, '--data', join(common[1] as string, 'missing'));
    expect(result.stderr[0]).toContain('no event lake at');
    expect(result.code).toBe(1);
  });

  it('a failure while working is 1: no definitions folder at --definitions, named with the option to check', async () => {
    const missing = join(common[1] as string, 'no-definitions');
    const result = await cohorts('validate', ...common, '--definitions', missing);
    expect(result.stdout).toEqual([`${missing}: cannot read the definitions folder: no such folder (check --definitions)`]);
    expect(result.code).toBe(1);
  });

  it('experiment names an unknown id and a missing version as members and diff do', async () => {
    const state = common.at(-1) as string;
    const unknown = await cohorts('experiment', 'activ_users', '--metric', 'login', '--within', '14d', ...common);
    expect(unknown.stderr).toEqual([
      `cohort "activ_users" has no versions in ${state}: check the id (\`cohorts checks\` lists the cohorts refreshed), or run \`cohorts run\` first`,
    ]);
    const missing = await cohorts('experiment', 'active_users', '--metric', 'login', '--within', '14d', '--version', '9', ...common);
    expect(missing.stderr).toEqual(['cohort "active_users" has no version 9; it has v1 to v2']);
  });

  it('history names an id with no versions and no definition history, and what to do', async () => {
    const result = await cohorts('history', 'activ_users', ...common);
    expect(result.stderr).toEqual([
      `cohort "activ_users" has no versions and no definition history in ${common.at(-1)}: check the id, or refresh it first`,
    ]);
  });

  it.each([
    ['members', '../../../../etc/passwd'],
    ['learn', 'active_users/../../..', 'a note'],
    ['history', 'x/../../privacy'],
    ['diff', 'Active_Users', '1', '2'],
    ['experiment', '../state', '--metric', 'login', '--within', '14d'],
    ['checks', 'active_users', 'a/b'],
  ])('an argument that cannot be a cohort id is named as such (2), never looked up: %s %s', async (...argv) => {
    const result = await cohorts(...argv, ...common);
    expect(result.stderr).toHaveLength(1);
    expect(result.stderr[0]).toMatch(
      /^".+" is not a cohort id \(a lowercase letter, then lowercase letters, digits or _; 3 to 63 in all\)$/,
    );
    expect(result.code).toBe(2);
  });

  it.each([
    ['--days', '1e9', 'from 1 to 3650'],
    ['--people', '20000000', 'from 1 to 10000000'],
    ['--people', '0', 'from 1 to 10000000'],
  ])('sample-data refuses %s %s before writing anything, as a usage error (2)', async (option, value, range) => {
    const data = join(common[1] as string, 'never-written');
    const result = await cohorts('sample-data', option, value, '--data', data);
    expect(result.stderr).toEqual([`${option} must be a whole number ${range}, got "${value}"`]);
    expect(result.code).toBe(2);
    expect(existsSync(data)).toBe(false);
  });

  it('the ids and versions that exist answer 0', async () => {
    expect((await cohorts('diff', 'active_users', '1', '2', ...common)).code).toBe(0);
    expect((await cohorts('members', 'active_users', '--version', '1', ...common)).code).toBe(0);
  });
});
