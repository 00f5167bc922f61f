import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openLocalContext } from '../../shared/local/local-context.ts';
import { armMovement } from '../../shared/experiments/arm-movement.ts';
import { armOf, splitMembers } from '../../shared/experiments/holdout.ts';
import { type ArmOutcome, type MetricReadOut, readOutExperiments } from '../../shared/experiments/read-out.ts';
import { formatReadOut } from '../../shared/cli/experiment-format.ts';
import { compareProportions } from '../../shared/stats/two-proportions.ts';
import { buildCatalog, loadCatalog } from '../../shared/language/catalog.ts';
import { buildReport } from '../../shared/report/build-report.ts';
import { formatProblem } from '../../shared/language/errors.ts';
import { parseDuration } from '../../shared/language/duration.ts';
import { cohorts, tempDir } from '../support/cli.ts';
import { WARN_ONLY_CONFIG_YAML } from '../support/config.ts';
import { type EventRow, header, writeDefinitions, writeLake } from '../support/lake.ts';
import { holdoutShare } from '../../shared/language/holdout-schema.ts';

const PEOPLE = Array.from({ length: 200 }, (_, i) => `p${String(i).padStart(3, '0')}`);
const PROGRAM = 'program:\n  experiment: trial-nudge\n  holdout: 20%\n  salt: trial-salt\n';
const RULE = 'rule:\n  event: login\n  within: 7d\n';

describe('the holdout split', () => {
  const spec = { share: 0.2, salt: 'trial-salt' };
  const ids = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);

  it('holds out close to the declared share of members', () => {
    const { holdout, treatment } = splitMembers(spec, ids);
    expect(holdout.length + treatment.length).toBe(ids.length);
    // Binomial(20000, 0.2): standard deviation 57, so 19%..21% is more than 7 of them.
    expect(holdout.length / ids.length).toBeGreaterThan(0.19);
    expect(holdout.length / ids.length).toBeLessThan(0.21);
  });

  it('gives a person the same arm whatever else is in the cohort, and reshuffles with another salt', () => {
    const alone = ids.slice(0, 500).map((id) => armOf(spec, id));
    const inCrowd = splitMembers(spec, [...ids].reverse());
    const held = new Set(inCrowd.holdout);
    expect(ids.slice(0, 500).map((id) => (held.has(id) ? 'holdout' : 'treatment'))).toEqual(alone);
    const other = ids.map((id) => armOf({ ...spec, salt: 'another-salt' }, id));
    const moved = ids.filter((id, i) => armOf(spec, id) !== other[i]).length;
    // Independent 20% splits disagree for 2 * 0.2 * 0.8 = 32% of people.
    expect(moved / ids.length).toBeGreaterThan(0.28);
  });

  it('reads shares such as 10% and 2.5%, and nothing at or outside 0% and 100%', () => {
    expect(holdoutShare('10%')).toBe(0.1);
    expect(holdoutShare('2.5%')).toBe(0.025);
    for (const bad of ['0%', '100%', '10', '-5%', '10 %']) expect(holdoutShare(bad)).toBeUndefined();
  });
});

describe('how each arm moved between versions', () => {
  it('compares each arm with the same arm of the previous version, everyone in treatment when it held nobody out', () => {
    const previous = { members: ['a', 'b', 'c', 'd'], holdout: ['d'] };
    expect(armMovement({ members: ['b', 'c', 'd', 'e'], holdout: ['b', 'e'] }, previous)).toEqual({
      // With a new salt b moved to the holdout (gone from what the program acts on) and d to treatment.
      treatment: { size: 2, entered: 1, exited: 2 },
      holdout: { size: 2, entered: 2, exited: 1 },
    });
    expect(armMovement({ members: ['a', 'b'], holdout: ['b'] }, { members: ['a', 'b', 'c'], holdout: undefined })).toEqual({
      treatment: { size: 1, entered: 0, exited: 2 },
      holdout: { size: 1, entered: 1, exited: 0 },
    });
    expect(armMovement({ members: ['a', 'b'], holdout: ['b'] }, undefined)).toEqual({
      treatment: { size: 1, entered: 1, exited: 0 },
      holdout: { size: 1, entered: 1, exited: 0 },
    });
  });
});

describe('the read-out table', () => {
  const row = (treatment: ArmOutcome, holdout: ArmOutcome): MetricReadOut => ({
    cohort: 'power_users',
    version: 2,
    experiment: 'team-plan-offer',
    metric: 'subscription_changed',
    window: { from: '2026-10-15T00:00:00.000Z', to: '2026-10-29T00:00:00.000Z' },
    incomplete: false,
    treatment,
    holdout,
    comparison: compareProportions(
      { successes: treatment.converted, trials: treatment.size },
      { successes: holdout.converted, trials: holdout.size },
    ),
    needed: null,
    pAdjusted: 1,
  });
  const arm = (converted: number, size: number): ArmOutcome => ({ size, converted, rate: converted / size });
  const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

  it('prints the score interval as the lift CI with Wald beside it, and warns when an arm is small', () => {
    // The sample power_users read-out: 4 of 63 against 0 of 2. Wald claims +0.3 to +12.4 points.
    const small = plain(formatReadOut([row(arm(4, 63), arm(0, 2))], '14d'));
    const interval = compareProportions({ successes: 4, trials: 63 }, { successes: 0, trials: 2 }).scoreInterval;
    const shown = (n: number | null) => `${(n ?? 0) < 0 ? '\u2212' : '+'}${Math.abs((n ?? 0) * 100).toFixed(1)}`;
    expect(small).toMatch(new RegExp(`\\+6\\.3 \\[${shown(interval.low)}, \\${shown(interval.high)}\\]\\s+\\[\\+0\\.3, \\+12\\.4\\]`));
    expect(small).toContain(
      'small arms for power_users v2 subscription_changed (treatment 4 of 63, holdout 0 of 2; fewer than 30 people or 10 conversions)',
    );
    // Arms of 30 people and 10 conversions each are not small.
    expect(plain(formatReadOut([row(arm(20, 300), arm(10, 30))], '14d'))).not.toContain('small arms');
    expect(plain(formatReadOut([row(arm(20, 300), arm(9, 30))], '14d'))).toContain(
      'small arms for power_users v2 subscription_changed (holdout 9 of 30;',
    );
  });
});

describe('a holdout in a definition', () => {
  const validate = (program: string) =>
    buildCatalog([{ path: 'definitions/trial_users.yaml', text: `${header('trial_users')}${RULE}${program}` }]).problems.map(formatProblem);

  it('is valid with an experiment and a salt', () => {
    expect(validate(PROGRAM)).toEqual([]);
  });

  it('needs a salt and an experiment, and a share written as a percentage', () => {
    expect(validate('program:\n  experiment: x\n  holdout: 10%\n')).toEqual([
      'definitions/trial_users.yaml:11:12: program.holdout needs program.salt: any text, mixed into the hash that assigns members',
    ]);
    expect(validate('program:\n  holdout: 10%\n  salt: s\n')).toEqual([
      'definitions/trial_users.yaml:10:12: program.holdout needs program.experiment: name the experiment the holdout belongs to',
    ]);
    expect(validate('program:\n  experiment: x\n  holdout: 0.1\n  salt: s\n')).toEqual([
      'definitions/trial_users.yaml:11:12: program.holdout must be a share such as 10%, got 0.1',
    ]);
    expect(validate('program:\n  experiment: x\n  salt: s\n')[0]).toContain('program.salt is used only with program.holdout');
  });
});

describe('experiments through refresh, exports and read-out', () => {
  let root: string;
  let folders: string[];
  let data: string;
  let state: string;
  const login = (person: string, ts: string, n = 0): EventRow => ({
    event_id: `${person}-login-${n}`,
    source: 'product',
    user_id: person,
    event_name: 'login',
    ts,
  });

  beforeAll(async () => {
    root = await tempDir();
    data = join(root, 'data');
    state = join(root, 'state');
    // Everyone logs in on May 30; the first half again on June 5, so on June 9 only they remain.
    await writeLake(data, [
      ...PEOPLE.map((p) => login(p, '2024-05-30T10:00:00Z')),
      ...PEOPLE.slice(0, 100).map((p) => login(p, '2024-06-05T10:00:00Z', 1)),
    ]);
    await writeDefinitions(join(root, 'definitions'), {
      'trial_users.yaml': `${header('trial_users')}${RULE}${PROGRAM}`,
      'plain_users.yaml': `${header('plain_users')}${RULE}`,
    });
    await writeFile(join(root, 'cohorts.config.yaml'), WARN_ONLY_CONFIG_YAML);
    folders = ['--data', data, '--definitions', join(root, 'definitions'), '--state', state, '--config', join(root, 'cohorts.config.yaml')];
    expect((await cohorts('run', '--as-of', '2024-06-01T00:00:00Z', ...folders)).code).toBe(0);
    expect((await cohorts('run', '--as-of', '2024-06-09T00:00:00Z', ...folders)).code).toBe(0);
  });

  it('stores the split beside the members, which stay one person_id column, and counts it in the manifest', async () => {
    const { store, engine } = await openLocalContext({ data, state });
    const manifest = await store.manifest('trial_users', 1);
    const holdout = (await store.holdout('trial_users', 1)) ?? [];
    expect(manifest?.size).toBe(200);
    expect(manifest?.experiment).toMatchObject({
      name: 'trial-nudge',
      holdout: '20%',
      salt: 'trial-salt',
      holdout_size: holdout.length,
      treatment_size: 200 - holdout.length,
    });
    expect(holdout).toEqual(PEOPLE.filter((p) => armOf({ share: 0.2, salt: 'trial-salt' }, p) === 'holdout'));
    const columns = await engine.rows(
      `DESCRIBE SELECT * FROM read_parquet('${join(state, 'snapshots/cohort=trial_users/version=1/members.parquet')}', hive_partitioning = false)`,
    );
    expect(columns.map((c) => c.column_name)).toEqual(['person_id']);
    expect(await store.holdout('plain_users', 1)).toBeUndefined();
    expect((await store.manifest('plain_users', 1))?.experiment).toBeUndefined();
  });

  it('shows the newest split in the cohort section of the report', async () => {
    const { store } = await openLocalContext({ data, state });
    const catalog = await loadCatalog(join(root, 'definitions'));
    const { files } = await buildReport({ catalog: catalog.definitions, store, generatedAt: new Date('2024-06-09T00:00:00Z') });
    const split = (await store.manifest('trial_users', 2))?.experiment;
    const section = files['index.html']?.split('id="cohort-trial_users"')[1]?.split('<section')[0] ?? '';
    expect(section).toContain(`v2 has ${split?.treatment_size} in treatment and ${split?.holdout_size} held out (20%)`);
    expect(files['index.html']?.split('id="cohort-plain_users"')[1]?.split('<section')[0]).not.toContain('experiment-split');
  });

  it('says in the run alert that the program acts on the treatment arm, and counts the holdout apart', async () => {
    const alerts = (await readFile(join(state, 'alerts.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { body: string });
    const held = (ids: readonly string[]) => ids.filter((p) => armOf({ share: 0.2, salt: 'trial-salt' }, p) === 'holdout').length;
    const [firstHeld, goneHeld] = [held(PEOPLE), held(PEOPLE.slice(100))];
    const first = `trial-nudge now targets ${200 - firstHeld} treatment members of trial_users (${200 - firstHeld} new, 0 gone); ${firstHeld} held out (${firstHeld} new, 0 gone)`;
    // v2: the second half left; each arm lost its share of them, nobody joined.
    const second = `trial-nudge now targets ${100 - (firstHeld - goneHeld)} treatment members of trial_users (0 new, ${100 - goneHeld} gone); ${firstHeld - goneHeld} held out (0 new, ${goneHeld} gone)`;
    expect(alerts.map((alert) => alert.body.split('Programs affected:\n')[1]?.split('\n')[0])).toEqual([first, second]);
  });

  it('keeps everyone who stays in the arm they had', async () => {
    const { store } = await openLocalContext({ data, state });
    const stayers = new Set(await store.members('trial_users', 2));
    expect(stayers.size).toBe(100);
    const before = (await store.holdout('trial_users', 1)) ?? [];
    expect(await store.holdout('trial_users', 2)).toEqual(before.filter((p) => stayers.has(p)));
  });

  it('exports treatment and holdout beside the members, together exactly the members', async () => {
    const folder = join(state, 'exports', 'cohort=trial_users', 'version=1');
    const lines = async (file: string) => (await readFile(join(folder, file), 'utf8')).trim().split('\n').slice(1);
    const { store } = await openLocalContext({ data, state });
    const holdout = await lines('holdout.csv');
    const treatment = await lines('treatment.csv');
    expect(holdout).toEqual(await store.holdout('trial_users', 1));
    expect([...treatment, ...holdout].sort()).toEqual(PEOPLE);
    expect(treatment.filter((p) => holdout.includes(p))).toEqual([]);
  });

  it('reads out conversions of each arm in [as_of, as_of + within) and adjusts the p-values of several metrics together', async () => {
    // Prepare: purchases after v1's as_of (June 1): every other treatment member and the first half of
    // the holdout inside the window, a holdout member exactly at as_of (counted) and one exactly at
    // as_of + 14d (not counted); refunds by three treatment members. (New days: no login file is replaced.)
    const { store, engine } = await openLocalContext({ data, state });
    const holdout = (await store.holdout('trial_users', 1)) ?? [];
    const treatment = PEOPLE.filter((p) => !holdout.includes(p));
    const buyersT = treatment.filter((_, i) => i % 2 === 0);
    const buyersH = holdout.slice(0, Math.floor(holdout.length / 2));
    const [atStart, atEnd] = holdout.slice(-2) as [string, string];
    const purchase = (p: string, ts: string): EventRow => ({
      event_id: `${p}-buy-${ts}`,
      source: 'billing',
      user_id: p,
      event_name: 'purchase',
      ts,
    });
    await writeLake(join(root, 'data'), [
      ...buyersT.map((p) => purchase(p, '2024-06-03T12:00:00Z')),
      ...buyersH.map((p) => purchase(p, '2024-06-10T12:00:00Z')),
      purchase(atStart, '2024-06-01T00:00:00Z'),
      purchase(atEnd, '2024-06-15T00:00:00Z'),
      ...treatment.slice(0, 3).map((p) => ({ ...purchase(p, '2024-06-04T00:00:00Z'), event_id: `${p}-refund`, event_name: 'refund' })),
    ]);

    // Act
    const rows = await readOutExperiments(
      {
        cohorts: [{ id: 'trial_users', version: 1 }],
        metrics: ['purchase', 'refund'],
        within: parseDuration('14d') as { text: string; ms: number },
      },
      { engine, store, now: () => new Date('2024-07-01T00:00:00Z') },
    );

    // Assess
    const [purchases, refunds] = rows;
    expect(purchases).toMatchObject({
      metric: 'purchase',
      window: { from: '2024-06-01T00:00:00.000Z', to: '2024-06-15T00:00:00.000Z' },
      incomplete: false,
      treatment: { size: treatment.length, converted: buyersT.length },
      holdout: { size: holdout.length, converted: buyersH.length + 1 },
    });
    expect(refunds).toMatchObject({ treatment: { converted: 3 }, holdout: { converted: 0 } });
    const [p1, p2] = [purchases?.comparison.p as number, refunds?.comparison.p as number];
    const sorted = [p1, p2].sort((a, b) => a - b) as [number, number];
    // Two p-values: the larger is kept, the smaller doubled (but never above the larger).
    expect(Math.max(purchases?.pAdjusted as number, refunds?.pAdjusted as number)).toBeCloseTo(sorted[1], 12);
    expect(Math.min(purchases?.pAdjusted as number, refunds?.pAdjusted as number)).toBeCloseTo(Math.min(2 * sorted[0], sorted[1]), 12);
  });

  it('prints the read-out table, and refuses a cohort without a holdout', async () => {
    const result = await cohorts('experiment', 'trial_users', '--version', '1', '--metric', 'purchase', '--within', '14d', ...folders);
    expect(result.code).toBe(0);
    const text = result.stdout.join('\n');
    expect(text).toMatch(/trial_users v1\s+purchase\s+\d+\/\d+ \d+\.\d%\s+\d+\/\d+ \d+\.\d%\s+[+−]\d+\.\d \[/);
    expect(text).toContain('converted = did the metric in [2024-06-01T00:00:00.000Z, 2024-06-15T00:00:00.000Z)');
    const plain = await cohorts('experiment', 'plain_users', '--metric', 'purchase', '--within', '14d', ...folders);
    expect(plain.code).toBe(2);
    expect(plain.stderr.join('\n')).toContain('cohort "plain_users" v2 has no holdout split');
    const usage = await cohorts('experiment', 'trial_users', '--within', '14d', ...folders);
    expect(usage.stderr.join('\n')).toContain('usage: cohorts experiment ID');
  });

  it('names a metric no event of the lake has, which converts no one in either arm', async () => {
    const args = ['experiment', 'trial_users', '--version', '1', '--metric', 'purchase', '--metric', 'purchse', '--within', '14d'];
    const result = await cohorts(...args, ...folders);
    expect(result.code).toBe(0);
    expect(result.stdout.join('\n')).toMatch(/trial_users v1\s+purchse\s+0\/\d+ 0\.0%\s+0\/\d+ 0\.0%/);
    const data = folders[folders.indexOf('--data') + 1] as string;
    expect(result.stderr).toEqual([`no event in the lake at ${data} is named "purchse": check --metric (event names match exactly)`]);
  });
});
