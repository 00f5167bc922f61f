import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cohorts, tempDir, projectFolders } from '../support/cli.ts';
import { WARN_ONLY_CONFIG_YAML } from '../support/config.ts';

const REPO = join(import.meta.dirname, '..', '..');
const END = '2024-06-01T00:00:00Z';

describe('cohorts plan on the default catalog', () => {
  let root: string;
  let folders: string[];

  beforeAll(async () => {
    root = await tempDir();
    await cp(join(REPO, 'definitions'), join(root, 'definitions'), { recursive: true });
    await writeFile(join(root, 'cohorts.config.yaml'), WARN_ONLY_CONFIG_YAML);
    folders = projectFolders(root);
    expect((await cohorts('sample-data', '--people', '600', '--days', '45', '--end', END, '--seed', '3', ...folders)).code).toBe(0);
    expect((await cohorts('run', '--as-of', END, ...folders)).code).toBe(0);
  }, 120_000);

  it('shows the rule diff, the dependants with their movement, and the verdicts of a crafted change', async () => {
    const file = join(root, 'definitions', 'power_users.yaml');
    const original = await readFile(file, 'utf8');
    await writeFile(file, original.replace('count: {gte: 40}', 'count: {gte: 10}'));
    const churn = join(root, 'definitions', 'churn_risk.yaml');
    await writeFile(churn, (await readFile(churn, 'utf8')).replace('cadence: weekly', 'cadence: daily'));

    const plan = await cohorts('plan', '--as-of', END, ...folders);
    const text = plan.stdout.join('\n');
    expect(plan.code).toBe(1);
    expect(text).toMatch(/~ power_users \(core, changed: rule\)\s+refused/);
    expect(text).toMatch(/\n\s+- \s+count: {gte: 40}\n\s+\+ \s+count: {gte: 10}\n/);
    expect(text).toMatch(/power_users[\s\S]*members on the current data: \d+ -> \d+ members \(\+\d+ -0, \+[\d.]+%\)/);
    expect(text).toMatch(/power_users[\s\S]*dependants: expansion_candidates \(\d+ -> \d+ members/);
    expect(text).toMatch(/~ churn_risk \(core, changed: cadence\)\s+needs approval/);
    expect(text).toMatch(/churn_risk[\s\S]*dependants: expansion_candidates/);
    expect(text).toContain('Plan: 0 to add, 2 to change, 0 to deprecate, 0 to remove; 1 refused, 1 waiting for approval');

    // With a change_reason the rule change is no longer refused; its size move decides.
    await writeFile(file, `${original.replace('count: {gte: 40}', 'count: {gte: 10}')}change_reason: Reach more heavy users.\n`);
    const next = await cohorts('plan', '--as-of', END, ...folders);
    expect(next.code).toBe(0);
    expect(next.stdout.join('\n')).toMatch(/~ power_users \(core, changed: rule, change_reason\)\s+needs approval/);
  });
});
