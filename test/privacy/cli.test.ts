import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { cohorts, tempDir, projectFolders } from '../support/cli.ts';
import { WARN_ONLY_CONFIG_YAML } from '../support/config.ts';
import { header, writeDefinitions, writeLake } from '../support/lake.ts';
import { DEFINITIONS, EVENTS, textFilesHolding } from './support.ts';

const PRIVACY_CONFIG = `${WARN_ONLY_CONFIG_YAML}privacy:\n  personal_properties: [email]\n`;

describe('privacy on the command line', () => {
  let root: string;
  let state: string;
  let folders: string[];

  beforeEach(async () => {
    root = await tempDir('cohorts-privacy-cli-');
    state = join(root, 'state');
    await writeLake(join(root, 'data'), EVENTS);
    await writeDefinitions(join(root, 'definitions'), DEFINITIONS);
    await writeFile(join(root, 'cohorts.config.yaml'), PRIVACY_CONFIG);
    folders = projectFolders(root, state);
    expect((await cohorts('run', '--as-of', '2024-06-01T00:00:00Z', ...folders)).code).toBe(0);
  });

  it('forget erases the person and prints what it rewrote, naming the erasure record and never the id', async () => {
    const result = await cohorts('forget', 'bob', ...folders);
    expect(result.code).toBe(0);
    // 8 export files: members and entered, CSV and Parquet, of v1 of both cohorts; 1 other: events.jsonl's Cohort Entered lines.
    expect(result.stdout).toEqual([
      expect.stringMatching(
        /^forgotten \(erasure record [0-9a-f]{12}\): 2 stored versions of 2 cohorts rewritten, 2 new versions \(active_users v2, all_users v2\), 8 export files rewritten, 1 other file rewritten$/,
      ),
    ]);
    expect((await cohorts('members', 'active_users', '--version', '1', ...folders)).stdout).toEqual(['ann', 'dora@example.com']);
    expect((await cohorts('history', 'active_users', ...folders)).stdout.join('\n')).toMatch(
      /v2 \(current\)\s+\S+\s+published\s+2\s+\+0\s+-0\s.*erasure/,
    );
    expect(await textFilesHolding(state, 'bob')).toEqual([]);
  });

  it("forget after a crash says once what the crash left (removed before forgetting), not also '0 crash leftovers deleted'", async () => {
    await writeFile(join(state, 'snapshots', '.tmp-5b0c7f3e-0d9a-4c1e-9a57-2f1d6c3b8e41'), 'person_id\nbob\n');
    const result = await cohorts('forget', 'bob', ...folders);
    expect(result.code).toBe(0);
    expect(result.stderr.join('\n')).toMatch(/removed 1 file an interrupted command left in .* \(1 temporary\)/);
    expect(result.stdout.join('\n')).not.toMatch(/crash leftovers/);
    expect(await textFilesHolding(state, 'bob')).toEqual([]);
  });

  it('privacy-check exits 0 on a clean state and 1 with one line per finding, without the forgotten id', async () => {
    const clean = await cohorts('privacy-check', ...folders);
    expect(clean.code).toBe(0);
    // The verdict either way is the answer, on stdout as validate's (README, The command line).
    expect(clean.stdout).toEqual([
      expect.stringMatching(/^privacy check passed: \d+ versions, \d+ export files and \d+ other files checked$/),
    ]);
    expect(clean.stderr).toEqual([]);
    await cohorts('forget', 'bob', ...folders);
    await mkdir(join(state, 'exports', 'cohort=all_users', 'version=1'), { recursive: true });
    await writeFile(join(state, 'exports', 'cohort=all_users', 'version=1', 'members.csv'), 'person_id\nbob\n');
    const result = await cohorts('privacy-check', ...folders);
    expect(result.code).toBe(1);
    expect(result.stdout).toEqual([
      expect.stringMatching(/^forgotten: .*members\.csv holds a forgotten person \(erasure record [0-9a-f]{12}\)$/),
    ]);
    expect([...result.stdout, ...result.stderr].join('\n')).not.toContain('bob');
  });

  it('validate and run refuse a definition that compares a personal property with a value, at its line and column', async () => {
    const file = join(root, 'definitions', 'by_email.yaml');
    await writeFile(file, `${header('by_email')}rule:\n  event: login\n  where:\n    email: ann@example.com\n`);
    const validate = await cohorts('validate', ...folders);
    expect(validate.code).toBe(1);
    expect(validate.stdout).toEqual([expect.stringMatching(new RegExp(`^${file}:9:5: "email" is personal data`))]);
    const run = await cohorts('run', '--as-of', '2024-06-02T00:00:00Z', ...folders);
    expect(run.code).toBe(1);
    expect(run.stderr.join('\n')).toContain(`${file}:9:5`);
    expect((await cohorts('privacy-check', ...folders)).stdout).toEqual([
      expect.stringMatching(/^personal_property: .*by_email\.yaml:9:5:/),
    ]);
  });

  it('privacy-check counts a definition it cannot load as a finding: its personal properties were never checked', async () => {
    const file = join(root, 'definitions', 'broken_users.yaml');
    await writeFile(file, `${header('broken_users')}rule:\n  event: login\n  whithin: 7d\n`);
    const result = await cohorts('privacy-check', ...folders);
    expect(result.code).toBe(1);
    expect(result.stdout).toEqual([
      expect.stringMatching(
        new RegExp(`^invalid_definition: ${file}:\\d+:\\d+: .*whithin.* \\(not checked for personal properties: cohorts validate\\)$`),
      ),
    ]);
    expect(result.stderr.join('\n')).toContain('privacy check failed: 1 finding');
  });

  it('validate and run refuse a KPI metric that compares a personal property with a value, at its place in the config', async () => {
    const config = join(root, 'cohorts.config.yaml');
    await writeFile(config, `${PRIVACY_CONFIG}metrics:\n  activation: {event: login, within: 7d, where: {email: ann@example.com}}\n`);
    const line = `${config}:12:50: metrics.activation.where.email is personal data (privacy.personal_properties)`;
    const validate = await cohorts('validate', ...folders);
    expect(validate.code).toBe(1);
    expect(validate.stderr.join('\n')).toContain(line);
    const run = await cohorts('run', '--as-of', '2024-06-02T00:00:00Z', ...folders);
    expect(run.code).toBe(1);
    expect(run.stderr.join('\n')).toContain(line);
    // Nothing ran: the refused literal reached no query, and so no manifest.
    expect((await readdir(join(state, 'snapshots', 'cohort=active_users'))).filter((name) => name.startsWith('version='))).toEqual([
      'version=1',
    ]);
    expect(await textFilesHolding(state, 'ann@example.com')).toEqual([]);
  });

  it('run evaluates a rule testing a personal property for existence, and no file it writes holds a value of it', async () => {
    await writeFile(
      join(root, 'definitions', 'has_email.yaml'),
      `${header('has_email')}rule:\n  event: login\n  where:\n    email: {exists: true}\n`,
    );
    expect((await cohorts('run', '--as-of', '2024-06-02T00:00:00Z', ...folders)).code).toBe(0);
    expect((await cohorts('members', 'has_email', ...folders)).stdout).toEqual(['ann']);
    // Manifests, lineage queries, alerts.jsonl and the HTML report alike.
    expect(await textFilesHolding(state, 'ann.private')).toEqual([]);
    // ...though the rule reads the property: its name is in the lineage query and the report.
    expect(await textFilesHolding(state, 'email')).not.toEqual([]);
  });

  it('run carries out deletion requests dropped in the state folder, and alerts on suppressed people still published', async () => {
    await mkdir(join(state, 'privacy', 'deletion-requests'), { recursive: true });
    await writeFile(join(state, 'privacy', 'deletion-requests', 'ticket-7.txt'), 'cid\n');
    await writeFile(join(state, 'privacy', 'suppressed.txt'), 'ann\n');
    // Only active_users refreshes: all_users stays current at v1 (or its erasure version) with ann in it.
    const result = await cohorts('run', '--as-of', '2024-06-02T00:00:00Z', '--cohort', 'active_users', ...folders);
    expect(result.code).toBe(0);
    expect((await cohorts('members', 'active_users', ...folders)).stdout).toEqual(['bob', 'dora@example.com']);
    expect((await cohorts('members', 'all_users', ...folders)).stdout).toEqual(['ann', 'bob', 'dora@example.com']);
    const alerts = (await readFile(join(state, 'alerts.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { severity: string; body: string });
    const last = alerts.at(-1);
    expect(last?.severity).toBe('warn');
    expect(last?.body).toMatch(
      /Privacy check \(\d+ versions, 6 export files\):\n {2}suppressed: .*cohort=all_users\/version=2\/members\.parquet holds 1 suppressed person/,
    );
    expect(await textFilesHolding(state, 'cid')).toEqual([]);
  });
});
