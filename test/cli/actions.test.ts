import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../../shared/store/manifest.ts';
import { cohorts, projectFolders, tempDir } from '../support/cli.ts';
import { WARN_ONLY_CONFIG_YAML } from '../support/config.ts';
import { writeDefinitions, writeLake } from '../support/lake.ts';
import { definitionYaml, LOGIN_EVENTS } from '../governance/support.ts';

const AS_OF = '2024-06-01T00:00:00Z';
const action = (event: string, purpose = 'Any login.') => `id: logged_in\nowner: test-team\npurpose: ${purpose}\nevent: ${event}\n`;

describe('named actions under governance: changing one is a definition change of every cohort using it', () => {
  let root: string;
  let folders: string[];
  const actionFile = () => join(root, 'definitions', 'actions', 'logged_in.yaml');
  const members = async (id: string) => (await cohorts('members', id, ...folders)).stdout;
  const manifest = async (id: string, version: number) =>
    JSON.parse(await readFile(join(root, 'state', 'snapshots', `cohort=${id}`, `version=${version}`, 'manifest.json'), 'utf8')) as Manifest;

  beforeEach(async () => {
    root = await tempDir();
    await writeLake(join(root, 'data'), LOGIN_EVENTS);
    await writeDefinitions(join(root, 'definitions'), {
      'core_users.yaml': definitionYaml('core_users', { rule: '  action: logged_in\n  within: 7d' }),
      'month_users.yaml': definitionYaml('month_users', { tier: 'tactical', rule: '  action: logged_in\n  within: 30d' }),
      'other_users.yaml': definitionYaml('other_users', { tier: 'tactical', rule: '  event: login\n  within: 30d' }),
      // The action as a sequence step and beside periods (issue 16: usable in any leaf)
      'seq_users.yaml': definitionYaml('seq_users', {
        tier: 'tactical',
        rule: '  sequence:\n    - {event: login}\n    - {action: logged_in}\n  within: 30d',
      }),
      'weekly_users.yaml': definitionYaml('weekly_users', {
        tier: 'tactical',
        rule: '  action: logged_in\n  periods: {every: 1w, count: 4, at_least: 1}',
      }),
    });
    await mkdir(join(root, 'definitions', 'actions'));
    await writeFile(actionFile(), action('login'));
    await writeFile(join(root, 'cohorts.config.yaml'), WARN_ONLY_CONFIG_YAML);
    folders = projectFolders(root);
    expect((await cohorts('run', '--as-of', AS_OF, ...folders)).code).toBe(0);
    expect(await members('month_users')).toEqual(['ann', 'bob', 'cy', 'dee']);
  });

  it('plan shows every cohort using the changed action, naming it, and the run keeps a refused one on the action it was accepted with', async () => {
    // GIVEN the action now stands for an event nobody had
    await writeFile(actionFile(), action('signup'));
    // WHEN planning
    const plan = await cohorts('plan', '--as-of', AS_OF, ...folders);
    const text = plan.stdout.join('\n');
    // THEN both users of the action change (the core one is refused: no new change_reason), the other cohort does not
    expect(plan.code).toBe(1);
    expect(text).toMatch(/~ core_users \(core, changed: rule\)\s+refused/);
    expect(text).toMatch(/~ month_users \(tactical, changed: rule\)\s+ok/);
    expect(text).toMatch(/~ seq_users \(tactical, changed: rule\)\s+ok/);
    expect(text).toMatch(/~ weekly_users \(tactical, changed: rule\)\s+ok/);
    expect(text).not.toContain('other_users');
    expect(text).toContain('  - action: logged_in  # {event: login}');
    expect(text).toContain('  + action: logged_in  # {event: signup}');
    // the sequence's step, named in the diff as a step
    expect(text).toContain('-   - action: logged_in  # {event: login}');
    expect(text).toContain('+   - action: logged_in  # {event: signup}');
    expect(text).toContain('members on the current data: 4 -> 0 members (+0 -4, -100%)');

    // WHEN a refresh runs: the refused core cohort keeps its accepted definition, with the action as it was then
    const result = await cohorts('run', '--as-of', '2024-06-01T06:00:00Z', ...folders);
    expect(result.code).toBe(1);
    expect(await members('core_users')).toEqual(['ann', 'bob']);
    expect((await manifest('core_users', 2)).definition.version).toBe(1);
    // and the tactical one moves to the new action, as a new definition version with a new hash
    expect(await members('month_users')).toEqual([]);
    const [before, after] = [await manifest('month_users', 1), await manifest('month_users', 2)];
    expect(after.definition.version).toBe(2);
    expect(after.definition.hash).not.toBe(before.definition.hash);
  });

  it("plan sees no change when only the action's owner or purpose changes", async () => {
    await writeFile(actionFile(), action('login', 'Every login, on any device.'));
    const plan = await cohorts('plan', '--as-of', AS_OF, ...folders);
    expect(plan.code).toBe(0);
    expect(plan.stdout.join('\n')).toContain('No changes');
  });
});
