import { describe, expect, it } from 'vitest';
import { cohortChecks, verdict, versionChurn } from '../../shared/checks/cohort-checks.ts';
import { churnWarnedBefore } from '../../shared/checks/churn-warned.ts';
import { robustZ } from '../../shared/checks/robust-z.ts';

const base = { entered: 0, exited: 0, definitionHash: 'h1', history: [] as number[] };
const check = (name: string, input: Parameters<typeof cohortChecks>[0]) => cohortChecks(input).find((c) => c.name === name);

describe('cohort checks', () => {
  it('hold a cohort that halves when max_change_pct is declared, and pass a small move', () => {
    const halved = check('max_change_pct', {
      ...base,
      size: 50,
      previous: { size: 100, definitionHash: 'h1' },
      quality: { max_change_pct: 30 },
    });
    expect(halved).toMatchObject({ status: 'fail', observed: 50, threshold: 30 });
    expect(halved?.message).toBe('size moved from 100 to 50 (50%); at most 30% allowed');
    expect(
      check('max_change_pct', { ...base, size: 90, previous: { size: 100, definitionHash: 'h1' }, quality: { max_change_pct: 30 } })
        ?.status,
    ).toBe('pass');
    expect(
      verdict(cohortChecks({ ...base, size: 50, previous: { size: 100, definitionHash: 'h1' }, quality: { max_change_pct: 30 } })),
    ).toBe('held');
  });

  it('fail below min_size and above max_size, pass within', () => {
    expect(check('min_size', { ...base, size: 4, quality: { min_size: 5 } })?.status).toBe('fail');
    expect(check('min_size', { ...base, size: 5, quality: { min_size: 5 } })?.status).toBe('pass');
    expect(check('max_size', { ...base, size: 11, quality: { max_size: 10 } })?.status).toBe('fail');
    expect(check('max_size', { ...base, size: 10, quality: { max_size: 10 } })?.status).toBe('pass');
  });

  it('warn on an empty cohort without holding it', () => {
    const checks = cohortChecks({ ...base, size: 0 });
    expect(checks.find((c) => c.name === 'not_empty')?.status).toBe('warn');
    expect(verdict(checks)).toBe('published');
  });

  it('judge size against the history only once there are five versions, then warn on an outlier', () => {
    expect(check('size_vs_history', { ...base, size: 500, history: [100, 101, 99, 100] })?.status).toBe('pass');
    const outlier = check('size_vs_history', { ...base, size: 500, history: [100, 104, 96, 100, 102, 98] });
    expect(outlier?.status).toBe('warn');
    expect(check('size_vs_history', { ...base, size: 101, history: [100, 104, 96, 100, 102, 98] })?.status).toBe('pass');
    expect(
      check('size_vs_history', { ...base, size: 130, history: [100, 104, 96, 100, 102, 98], quality: { max_history_z: 20 } })?.status,
    ).toBe('pass');
  });

  it('never find a size steadier than one member: one more after five versions of one size is no outlier', () => {
    const same = [27, 27, 27, 27, 27];
    expect(check('size_vs_history', { ...base, size: 28, history: same })).toMatchObject({ status: 'pass', observed: 1 });
    expect(check('size_vs_history', { ...base, size: 27, history: same })).toMatchObject({ status: 'pass', observed: 0 });
    expect(check('size_vs_history', { ...base, size: 32, history: same })).toMatchObject({ status: 'warn', observed: 5 });
  });

  it('never find a size steadier than 2% of its median: ordinary growth passes, a halving or doubling warns', () => {
    // unhappy_csat replaying the sample lake: versions 1-7, then 180 members (z 7 at a floor of one member).
    const unhappy = [172, 173, 173, 174, 173, 173, 176];
    expect(check('size_vs_history', { ...base, size: 180, history: unhappy })).toMatchObject({ status: 'pass', observed: 2.02 });
    expect(check('size_vs_history', { ...base, size: 173, history: unhappy })).toMatchObject({ status: 'pass', observed: 0 });
    expect(check('size_vs_history', { ...base, size: 87, history: unhappy })).toMatchObject({ status: 'warn', observed: -24.86 });
    expect(check('size_vs_history', { ...base, size: 346, history: unhappy })).toMatchObject({ status: 'warn', observed: 50 });
    // A declared z keeps its meaning on that scale: 2 warns beyond 4% of the median.
    expect(check('size_vs_history', { ...base, size: 181, history: unhappy, quality: { max_history_z: 2 } })?.status).toBe('warn');
  });

  it('warn of a shift in size once: later versions at the new size pass, a further move or a new shift warns again', () => {
    // Each version judged as it came, against the versions before it: ten around 100, then a step to 130.
    const sizes = [100, 101, 99, 100, 102, 98, 100, 101, 99, 100, 130, 131, 129, 130, 175, 176, 100];
    const verdicts = sizes.map((size, i) => check('size_vs_history', { ...base, size, history: sizes.slice(0, i) }));
    expect(verdicts.map((v) => v?.status).join(' ')).toBe(
      // 5 without history | 5 in it | the step | the same shift | a further move | its shift | back in the history
      'pass pass pass pass pass pass pass pass pass pass warn pass pass pass warn pass pass',
    );
    expect(verdicts[11]?.message).toBe(
      'size 131 is 15.5 robust deviations from the median of the last 11 versions (at most 3.5): ' +
        'the shift the previous version warned of, not moved on since (not warned again)',
    );
    expect(verdicts[13]?.message).toContain(': the shift the version 3 back warned of, not moved on since (not warned again)');
    // Judged alone, as before, every version of the shift warned.
    expect(sizes.slice(11, 14).map((size) => check('size_vs_history', { ...base, size, history: sizes.slice(0, 10) })?.status)).toEqual([
      'warn',
      'warn',
      'warn',
    ]);
  });

  it('warn when more than half of the members churned', () => {
    const churned = check('churn', { ...base, size: 100, entered: 40, exited: 40, previous: { size: 100, definitionHash: 'h1' } });
    expect(churned).toMatchObject({ status: 'warn', observed: 80, threshold: 50 });
    expect(check('churn', { ...base, size: 100, entered: 10, exited: 10, previous: { size: 100, definitionHash: 'h1' } })?.status).toBe(
      'pass',
    );
  });

  it('judge the churn of cohorts under 30 members only when their definition declares max_churn_pct', () => {
    const small = { ...base, size: 12, entered: 4, exited: 2, previous: { size: 10, definitionHash: 'h1' } };
    expect(check('churn', small)).toMatchObject({ status: 'pass', observed: 60, threshold: 50 });
    expect(check('churn', small)?.message).toBe(
      '4 entered and 2 left, 60% of the previous 10 members (above 50%, but churn is judged from 30 members unless quality.max_churn_pct is set)',
    );
    expect(check('churn', { ...small, quality: { max_churn_pct: 50 } })).toMatchObject({ status: 'warn', observed: 60 });
    // Either version at 30 or more is judged: a jump from a handful, or a collapse to one.
    expect(check('churn', { ...small, size: 40, entered: 34, exited: 4 })).toMatchObject({ status: 'warn', observed: 380 });
    expect(check('churn', { ...small, size: 1, entered: 0, exited: 29, previous: { size: 30, definitionHash: 'h1' } })).toMatchObject({
      status: 'warn',
      observed: 96.67,
    });
    expect(check('churn', { ...small, size: 40, entered: 40, exited: 0, previous: { size: 0, definitionHash: 'h1' } })).toMatchObject({
      status: 'warn',
      observed: 'infinite',
    });
    expect(check('churn', { ...small, size: 8, entered: 8, exited: 0, previous: { size: 0, definitionHash: 'h1' } })?.status).toBe('pass');
  });

  it('pass churn above 50% that is usual for the cohort, once five versions show it, and warn on churn above its usual', () => {
    const churny = { ...base, size: 200, entered: 60, exited: 60, previous: { size: 200, definitionHash: 'h1' } };
    const usual = [55, 62, 58, 65, 57, 60];
    expect(check('churn', { ...churny, churns: usual.slice(0, 4) })?.status).toBe('warn');
    const passed = check('churn', { ...churny, churns: usual });
    expect(passed).toMatchObject({ status: 'pass', observed: 60 });
    expect(passed?.message).toBe(
      "60 entered and 60 left, 60% of the previous 200 members (above 50%, but this cohort's median churn is 59% over its last 6 versions (robust z 0.27, at most 3.5))",
    );
    const jump = check('churn', { ...churny, entered: 95, exited: 95, churns: usual });
    expect(jump).toMatchObject({ status: 'warn', observed: 95 });
    expect(jump?.message).toContain('robust deviations above what is usual');
    // Never steadier than the moves' binomial noise: 66% after six versions at exactly 60% is no outlier (z 1.75).
    expect(check('churn', { ...churny, entered: 66, exited: 66, churns: [60, 60, 60, 60, 60, 60] })?.status).toBe('pass');
    expect(check('churn', { ...churny, entered: 80, exited: 80, churns: [60, 60, 60, 60, 60, 60] })?.status).toBe('warn');
    // A declared max_churn_pct is a hard line, whatever the history.
    expect(check('churn', { ...churny, churns: usual, quality: { max_churn_pct: 50 } })?.status).toBe('warn');
  });

  it("warn once of churn above 50% before five versions show the cohort's usual churn, and again when it climbs on", () => {
    const churny = { ...base, size: 200, entered: 60, exited: 60, previous: { size: 200, definitionHash: 'h1' }, churns: [58, 62] };
    expect(check('churn', churny)?.status).toBe('warn');
    const repeated = check('churn', { ...churny, churnWarned: { version: 3, churn: 58 } });
    expect(repeated).toMatchObject({ status: 'pass', observed: 60, threshold: 50 });
    expect(repeated?.message).toBe(
      "60 entered and 60 left, 60% of the previous 200 members (above 50% as in every version since version 3, which warned of it (not warned again until 5 versions show this cohort's usual churn))",
    );
    // Beyond 3.5 binomial spreads of the churn warned of (3.4 points at 58% of 200 members), it warns again.
    expect(check('churn', { ...churny, entered: 70, exited: 70, churnWarned: { version: 3, churn: 58 } })?.status).toBe('pass');
    expect(check('churn', { ...churny, entered: 72, exited: 72, churnWarned: { version: 3, churn: 58 } })?.status).toBe('warn');
    // A declared max_churn_pct is a hard line at every version.
    expect(check('churn', { ...churny, churnWarned: { version: 3, churn: 58 }, quality: { max_churn_pct: 50 } })?.status).toBe('warn');
  });

  it('find the churn warning a run of high churn started from, walking back over versions above the bound', () => {
    const churn = (status: 'pass' | 'warn', observed: number | string) => [{ name: 'churn', status, observed, threshold: 50, message: '' }];
    const v = (version: number, checks: ReturnType<typeof churn> | []) => ({ version, checks });
    expect(churnWarnedBefore([v(1, []), v(2, churn('warn', 70)), v(3, churn('pass', 65)), v(4, churn('pass', 80))], 50)).toEqual({
      version: 2,
      churn: 70,
    });
    expect(churnWarnedBefore([v(1, []), v(2, churn('warn', 'infinite'))], 50)).toEqual({ version: 2, churn: Number.POSITIVE_INFINITY });
    // A version at or below the bound ends the run; so does a first version (no churn check).
    expect(churnWarnedBefore([v(2, churn('warn', 70)), v(3, churn('pass', 50)), v(4, churn('pass', 80))], 50)).toBeUndefined();
    expect(churnWarnedBefore([v(1, []), v(2, churn('pass', 80))], 50)).toBeUndefined();
    expect(churnWarnedBefore([], 50)).toBeUndefined();
  });

  it("measure a version's churn against the version it was compared with", () => {
    expect(versionChurn({ size: 110, entered: 20, exited: 10, previous_version: 3 })).toBe(30);
    expect(versionChurn({ size: 50, entered: 50, exited: 0, previous_version: null })).toBeUndefined();
    expect(versionChurn({ size: 5, entered: 5, exited: 0, previous_version: 2 })).toBeUndefined();
  });

  it('warn when the definition changed without a change_reason, and pass with one', () => {
    const silent = check('definition_change', { ...base, size: 10, definitionHash: 'h2', previous: { size: 10, definitionHash: 'h1' } });
    expect(silent?.status).toBe('warn');
    const explained = check('definition_change', {
      ...base,
      size: 10,
      definitionHash: 'h2',
      changeReason: 'Count API exports too.',
      previous: { size: 10, definitionHash: 'h1' },
    });
    expect(explained).toMatchObject({ status: 'pass', message: 'the definition changed: Count API exports too.' });
    expect(check('definition_change', { ...base, size: 10, previous: { size: 10, definitionHash: 'h1' } })).toBeUndefined();
  });
});

describe('the robust z-score', () => {
  it('is the distance from the median in units of 1.4826 MAD', () => {
    // median 10, absolute deviations [2, 1, 0, 1, 2] -> MAD 1
    expect(robustZ(13, [8, 9, 10, 11, 12])).toBeCloseTo(3 / 1.4826, 10);
  });

  it('is infinite away from a history that never varies, and 0 on it', () => {
    expect(robustZ(5, [5, 5, 5])).toBe(0);
    expect(robustZ(6, [5, 5, 5])).toBe(Number.POSITIVE_INFINITY);
    expect(robustZ(4, [5, 5, 5])).toBe(Number.NEGATIVE_INFINITY);
  });
});
