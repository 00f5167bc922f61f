import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cohorts, tempDir } from '../support/cli.ts';
import { WARN_ONLY_CONFIG_YAML } from '../support/config.ts';
import { writeDefinitions, writeLake } from '../support/lake.ts';
import { DEFINITIONS, EVENTS } from './support.ts';

/** README, Privacy: where `cohorts forget` records an erasure when the state folder does not exist yet. */
describe('forget before a state folder exists', () => {
  let root: string;
  let folders: string[];
  const startedIn = process.cwd();

  beforeEach(async () => {
    root = await tempDir('cohorts-forget-state-');
    await writeLake(join(root, 'data'), EVENTS);
    await writeDefinitions(join(root, 'definitions'), DEFINITIONS);
    await writeFile(join(root, 'cohorts.config.yaml'), WARN_ONLY_CONFIG_YAML);
    folders = ['--data', join(root, 'data'), '--definitions', join(root, 'definitions'), '--config', join(root, 'cohorts.config.yaml')];
  });

  afterEach(() => process.chdir(startedIn));

  it('refuses an explicit --state that does not exist (a typo would forget the person where no refresh reads), creating nothing', async () => {
    const typo = join(root, 'stat');
    const result = await cohorts('forget', 'bob', ...folders, '--state', typo);
    expect(result.stderr).toEqual([
      `no state folder at ${typo}: forget would record the erasure where no refresh reads it (check --state; before the first run of that folder, create it: mkdir -p ${typo})`,
    ]);
    expect(result.stdout).toEqual([]);
    expect(result.code).toBe(2);
    expect(existsSync(typo)).toBe(false);
  });

  it('creates the default state folder, says so, and the first run there leaves the person out', async () => {
    process.chdir(root);
    const result = await cohorts('forget', 'bob', ...folders);
    expect(result.code).toBe(0);
    expect(result.stderr).toEqual([
      'no state folder at ./.cohorts yet: created it for the erasure record, which every `cohorts run` here reads',
    ]);
    expect((await cohorts('run', '--as-of', '2024-06-01T00:00:00Z', ...folders)).code).toBe(0);
    expect((await cohorts('members', 'active_users', ...folders)).stdout).toEqual(['ann', 'dora@example.com']);
  });

  it('says nothing more when the default state folder exists', async () => {
    process.chdir(root);
    expect((await cohorts('run', '--as-of', '2024-06-01T00:00:00Z', ...folders)).code).toBe(0);
    const result = await cohorts('forget', 'bob', ...folders);
    expect(result.code).toBe(0);
    expect(result.stderr).toEqual([]);
  });
});
