import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Output } from '../../shared/cli/io.ts';
import { main } from '../../shared/cli/main.ts';
import { exitCodeOf } from '../../shared/cli/errors.ts';
import { WARN_ONLY_CONFIG_YAML } from './config.ts';
import { header, writeDefinitions, writeLake } from './lake.ts';

/** What one in-process `cohorts` invocation printed and returned. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string[];
  readonly stderr: string[];
}

/** Colour codes: a terminal (or CI=true) gets them; assertions read the text. */
const plain = (line: string) => line.replace(/\x1b\[[0-9;]*m/g, '');

/** Runs the CLI in-process, capturing its output as plain text; errors become exit code 1 or 2 as at the real entry point. */
export async function cohorts(...argv: string[]): Promise<CliResult> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: Output = { out: (line) => stdout.push(plain(line)), err: (line) => stderr.push(plain(line)), interactive: false };
  try {
    const code = await main(argv, io);
    return { code, stdout, stderr };
  } catch (error) {
    stderr.push(error instanceof Error ? error.message : String(error));
    return { code: exitCodeOf(error), stdout, stderr };
  }
}

/** A fresh temporary folder. */
export function tempDir(prefix = 'cohorts-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/**
 * The folder flags of a CLI test project under `root`: its `data`, `definitions`, `state`
 * (or the one given) and `cohorts.config.yaml`.
 */
export function projectFolders(root: string, state = join(root, 'state')): string[] {
  return [
    '--data',
    join(root, 'data'),
    '--definitions',
    join(root, 'definitions'),
    '--state',
    state,
    '--config',
    join(root, 'cohorts.config.yaml'),
  ];
}

/**
 * A temporary project for CLI runs: a lake where ann and bob log in, one definition
 * (`active_users`, logged in within 7 days) and a config whose source checks only warn.
 * `common` are the folder flags to pass (add `--state`).
 */
export async function loginProject(): Promise<{ root: string; common: string[] }> {
  const root = await tempDir();
  await writeLake(join(root, 'data'), [
    { event_id: '1', source: 'product', user_id: 'ann', event_name: 'login', ts: '2024-05-30T00:00:00Z' },
    { event_id: '2', source: 'product', user_id: 'bob', event_name: 'login', ts: '2024-05-31T00:00:00Z' },
  ]);
  await writeDefinitions(join(root, 'definitions'), {
    'active_users.yaml': `${header('active_users')}rule:\n  event: login\n  within: 7d\n`,
  });
  await writeFile(join(root, 'cohorts.config.yaml'), WARN_ONLY_CONFIG_YAML);
  return {
    root,
    common: ['--data', join(root, 'data'), '--definitions', join(root, 'definitions'), '--config', join(root, 'cohorts.config.yaml')],
  };
}

/**
 * A temporary project whose one cohort, `big_users` (min_size 5), is held at every refresh: ann logs
 * in on 2024-05-30 and bob on 2024-06-02, so a run as of 2024-06-01 holds v1 with ann and one as of
 * 2024-06-03 holds v2 with both. Returns its root; `projectFolders(root)` are its flags.
 */
export async function heldProject(): Promise<string> {
  const root = await tempDir();
  await writeLake(join(root, 'data'), [
    { event_id: '1', source: 'product', user_id: 'ann', event_name: 'login', ts: '2024-05-30T00:00:00Z' },
    { event_id: '2', source: 'product', user_id: 'bob', event_name: 'login', ts: '2024-06-02T00:00:00Z' },
  ]);
  await writeDefinitions(join(root, 'definitions'), {
    'big_users.yaml': `${header('big_users')}rule:\n  event: login\nquality:\n  min_size: 5\n`,
  });
  await writeFile(join(root, 'cohorts.config.yaml'), WARN_ONLY_CONFIG_YAML);
  return root;
}
