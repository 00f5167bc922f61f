import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { shownLocation, shownPath } from '../../shared/cli/shown-path.ts';
import { definitionYaml, LOGIN_EVENTS, MONTH_OF_LOGINS, WEEK_OF_LOGINS } from '../governance/support.ts';
import { loginProject, tempDir } from '../support/cli.ts';
import { WARN_ONLY_CONFIG_YAML } from '../support/config.ts';
import { writeDefinitions, writeLake } from '../support/lake.ts';

const BIN = resolve(import.meta.dirname, '..', '..', 'bin', 'cohorts.mjs');

describe('what goes where: the answer on stdout, paths alike on every line', () => {
  it('shows a path under the working folder relative to it, any other absolute', () => {
    expect(shownPath('/work/p/.cohorts/report/index.html', '/work/p')).toBe('.cohorts/report/index.html');
    expect(shownPath('./.cohorts/exports', '/work/p')).toBe('.cohorts/exports');
    expect(shownPath('/tmp/state/exports', '/work/p')).toBe('/tmp/state/exports');
    expect(shownPath('../elsewhere/state', '/work/p')).toBe('/work/elsewhere/state');
    // The working folder itself stays absolute (never an empty name); a name starting with two dots is under it.
    expect(shownPath('/work/p', '/work/p')).toBe('/work/p');
    expect(shownPath('/work/p/..state/exports', '/work/p')).toBe('..state/exports');
    // A store's location in the cloud is a URL, shown as it is.
    expect(shownLocation('s3://defs-bucket/catalog/decisions/x.json', '/work/p')).toBe('s3://defs-bucket/catalog/decisions/x.json');
    expect(shownLocation('/work/p/.cohorts/catalog/x.json', '/work/p')).toBe('.cohorts/catalog/x.json');
  });

  it('run names the report and the exports both relative to the working folder (real process)', async () => {
    const { root } = await loginProject();
    const result = spawnSync(process.execPath, [BIN, 'run', '--as-of', '2024-06-01T00:00:00Z', '--state', join(root, 'state')], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(result.status).toBe(0);
    const lines = result.stderr.split('\n');
    expect(lines).toContain('report: state/report/index.html');
    expect(lines.find((line) => line.startsWith('exports: '))).toMatch(
      /^exports: state\/exports \(1 new\), events: state\/events\.jsonl \(1 version announced, \d+ member events?\)$/,
    );
    const report = spawnSync(process.execPath, [BIN, 'report', '--state', join(root, 'state')], { cwd: root, encoding: 'utf8' });
    expect(report.stdout).toBe('state/report/index.html\n');
    const validate = spawnSync(process.execPath, [BIN, 'validate'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect({ status: validate.status, stdout: validate.stdout, stderr: validate.stderr }).toEqual({
      status: 0,
      stdout: '1 definition valid (1 live, 0 deprecated)\n',
      stderr: '',
    });
  });
  it('approve names the decision it recorded relative to the working folder (real process)', async () => {
    const root = await tempDir();
    await writeLake(join(root, 'data'), LOGIN_EVENTS);
    await writeDefinitions(join(root, 'definitions'), { 'core_users.yaml': definitionYaml('core_users', { rule: WEEK_OF_LOGINS }) });
    await writeFile(join(root, 'cohorts.config.yaml'), WARN_ONLY_CONFIG_YAML);
    const cli = (...argv: string[]) =>
      spawnSync(process.execPath, [BIN, ...argv], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(cli('run', '--as-of', '2024-06-01T00:00:00Z').status).toBe(0);
    const month = definitionYaml('core_users', { rule: MONTH_OF_LOGINS, reason: 'A month shows regulars better.' });
    await writeFile(join(root, 'definitions', 'core_users.yaml'), month);
    expect(cli('run', '--as-of', '2024-06-01T06:00:00Z').status).toBe(0);
    const approved = cli('approve', 'core_users', '--by', 'dana', '--note', 'Reviewed the new members.');
    expect(approved.status).toBe(0);
    expect(approved.stderr).toMatch(/^recorded in \.cohorts\/catalog\/\S+; the next refresh accepts it$/m);
    // Four processes, two of them refreshes: more than the default minute on a loaded machine.
  }, 180_000);
});
