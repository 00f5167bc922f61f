import { describe, expect, it } from 'vitest';
import { cohortChecks, verdict } from '../../shared/checks/cohort-checks.ts';
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
    const same = [117, 117, 117, 117, 117];
    expect(check('size_vs_history', { ...base, size: 118, history: same })).toMatchObject({ status: 'pass', observed: 1 });
    expect(check('size_vs_history', { ...base, size: 117, history: same })).toMatchObject({ status: 'pass', observed: 0 });
    expect(check('size_vs_history', { ...base, size: 122, history: same })).toMatchObject({ status: 'warn', observed: 5 });
  });

  it('warn when more than half of the members churned', () => {
    const churned = check('churn', { ...base, size: 100, entered: 40, exited: 40, previous: { size: 100, definitionHash: 'h1' } });
    expect(churned).toMatchObject({ status: 'warn', observed: 80, threshold: 50 });
    expect(check('churn', { ...base, size: 100, entered: 10, exited: 10, previous: { size: 100, definitionHash: 'h1' } })?.status).toBe(
      'pass',
    );
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
