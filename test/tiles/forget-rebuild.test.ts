import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cohorts, projectFolders, tempDir } from '../support/cli.ts';
import { WARN_ONLY_CONFIG_YAML } from '../support/config.ts';
import { header, login, writeDefinitions, writeLake } from '../support/lake.ts';
import { filesHoldingAnywhere } from '../privacy/support.ts';

/** Ann and bob log in over a week; bob also holds a CRM key mapped to him (his tile rows under `crm/C-9`). */
const EVENTS = [
  login('a1', 'ann', '2024-05-25T10:00:00Z'),
  login('b1', 'bob', '2024-05-25T11:00:00Z'),
  { ...login('b2', 'C-9', '2024-05-27T11:00:00Z'), source: 'crm' },
  login('a2', 'ann', '2024-05-29T10:00:00Z'),
  login('b3', 'bob', '2024-05-30T10:00:00Z'),
];

describe('a tile rebuilt after an erasure', () => {
  it('leaves the forgotten person out again, so privacy-check stays clean after a late file on an old day', async () => {
    const root = await tempDir('cohorts-forget-rebuild-');
    const state = join(root, 'state');
    await writeLake(join(root, 'data'), EVENTS, [{ source: 'crm', user_id: 'C-9', person_id: 'bob' }]);
    await writeDefinitions(join(root, 'definitions'), {
      'active_users.yaml': `${header('active_users')}rule:\n  event: login\n  within: 14d\n`,
    });
    await writeFile(join(root, 'cohorts.config.yaml'), WARN_ONLY_CONFIG_YAML);
    const folders = projectFolders(root, state);
    expect((await cohorts('run', '--tiles', '--as-of', '2024-06-01T00:00:00Z', ...folders)).code).toBe(0);
    expect((await cohorts('forget', 'bob', ...folders)).code).toBe(0);
    expect((await cohorts('privacy-check', ...folders)).code).toBe(0);

    // GIVEN late files on old days: bob's events (both keys) and a new person's, beside the ones tiled
    const late = (dt: string, rows: object[]) =>
      writeFile(join(root, 'data', 'events', `dt=${dt}`, 'late.jsonl'), `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    await late('2024-05-25', [login('b4', 'bob', '2024-05-25T15:00:00Z'), login('c1', 'cid', '2024-05-25T16:00:00Z')]);
    await late('2024-05-27', [{ ...login('b5', 'C-9', '2024-05-27T15:00:00Z'), source: 'crm' }]);

    // WHEN the next refresh rebuilds those days from the lake, where bob's events still are
    const run = await cohorts('run', '--verify', '--as-of', '2024-06-02T00:00:00Z', ...folders);
    expect(run.code).toBe(0);
    expect(run.stdout.join('\n')).toMatch(/rebuilt/);

    // THEN the rebuilt tiles hold cid but not bob, the members are right, and the check is clean
    expect((await cohorts('members', 'active_users', ...folders)).stdout).toEqual(['ann', 'cid']);
    const check = await cohorts('privacy-check', ...folders);
    expect(check.stdout).toEqual([expect.stringMatching(/^privacy check passed: /)]);
    expect(check.code).toBe(0);
    expect(await filesHoldingAnywhere(join(state, 'tiles'), 'bob')).toEqual([]);
  });
});
