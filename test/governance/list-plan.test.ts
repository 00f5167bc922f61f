import { createHash } from 'node:crypto';
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cohorts, tempDir } from '../support/cli.ts';
import { WARN_ONLY_CONFIG_YAML } from '../support/config.ts';

const CASE = join(import.meta.dirname, '..', 'cases', 'lang_lists');
const short = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

describe('cohorts plan and uploaded lists', () => {
  it('shows a changed list: entries before and after, content hashes, and the current versions that read it', async () => {
    // GIVEN the lang_lists case refreshed once
    const root = await tempDir('cohorts-list-plan-');
    await cp(CASE, root, { recursive: true });
    await writeFile(join(root, 'cohorts.config.yaml'), WARN_ONLY_CONFIG_YAML);
    const folders = ['--data', join(root, 'lake'), '--definitions', join(root, 'definitions'), '--state', join(root, 'state')];
    folders.push('--config', join(root, 'cohorts.config.yaml'));
    expect((await cohorts('run', '--as-of', '2024-03-01T00:00:00Z', ...folders)).code).toBe(0);
    const unchanged = await cohorts('plan', '--as-of', '2024-03-01T00:00:00Z', ...folders);
    expect(unchanged.stdout.join('\n')).not.toMatch(/Uploaded lists/);

    // WHEN the vip list loses four entries (the definitions stay as they are)
    await writeFile(join(root, 'definitions', 'lists', 'vip.csv'), 'ann@example.com\nu-100\n');
    const plan = await cohorts('plan', '--as-of', '2024-03-01T00:00:00Z', ...folders);

    // THEN the plan names the list, its entries and hashes before and after, and who reads it
    expect(plan.code).toBe(0);
    const before = short('CRM-7\nU-200\nann@example.com\nbob@example.com\nnobody@example.com\nu-100\n');
    expect(plan.stdout[0]?.split('\n')).toEqual([
      'Uploaded lists changed since the current versions read them:',
      `  ~ list vip: 6 entries (${before}) -> 2 entries (${short('ann@example.com\nu-100\n')}); read by blocked_or_vip v1, vip_buyers v1, vip_members v1, which the next refresh writes again`,
      '',
    ]);
  });
});
