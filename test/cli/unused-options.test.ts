import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_OPTIONS } from '../../shared/cli/command-options.ts';
import { cohorts, tempDir } from '../support/cli.ts';

describe('an option the command does not take', () => {
  it.each([
    [['members', 'x', '--as-of', '2026-01-01'], '--as-of does not apply to members (run, demo, plan take it)'],
    [['diff', 'x', '1', '2', '--version', '3'], '--version does not apply to diff (members, learn, experiment take it)'],
    [['validate', '--tiles'], '--tiles does not apply to validate (run, demo take it)'],
    [['run', '--cloud'], '--cloud does not apply to run (history, plan, approve, reject, doctor take it)'],
    [['run', '--keep'], '--keep does not apply to run (doctor takes it)'],
    [['history', 'x', '--interval', '5'], '--interval does not apply to history (sample-data --stream takes it)'],
    [['sample-data', '--stream', '--days', '3'], '--days does not apply to sample-data --stream (sample-data without --stream takes it)'],
    [['checks', '--open'], '--open does not apply to checks (report takes it)'],
  ])('is named with the command, and the ones that take it, before anything runs (exit 2): %j', async (argv, message) => {
    const result = await cohorts(...argv, '--state', '/nonexistent/state');
    expect(result).toEqual({ code: 2, stdout: [], stderr: [message] });
  });

  it('the folder options apply to every command', async () => {
    // An explicit --config must exist (an empty file holds the defaults).
    const config = join(await tempDir(), 'c.yaml');
    await writeFile(config, '');
    const result = await cohorts('members', '--data', 'd', '--definitions', 'e', '--config', config, '--privacy-key', 'k');
    expect(result.stderr).toEqual(['usage: cohorts members ID [--version N]']);
  });

  it('every option a command takes is one cohorts knows, and every command the usage lists has an entry', async () => {
    const help = (await cohorts('--help')).stdout.join('\n');
    const known = [...help.matchAll(/--([a-z-]+)/g)].map((m) => m[1]);
    for (const takes of Object.values(COMMAND_OPTIONS)) for (const name of takes) expect(known).toContain(name);
    const listed = [...help.matchAll(/^ {2}([a-z][a-z-]*) /gm)].map((m) => m[1] as string);
    for (const command of listed) expect(COMMAND_OPTIONS[command], command).toBeDefined();
  });

  it('every command has its own line in the usage, reject as approve', async () => {
    const help = (await cohorts('--help')).stdout.join('\n');
    // sample-data --stream's entry is a line of its own too: "  sample-data --stream [--people N] ...".
    for (const command of Object.keys(COMMAND_OPTIONS)) expect(help, command).toMatch(new RegExp(`^ {2}${command} `, 'm'));
  });
});
