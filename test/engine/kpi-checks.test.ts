import { describe, expect, it } from 'vitest';
import { verdict } from '../../shared/checks/cohort-checks.ts';
import { KPI_CHECK_DEFAULTS, kpiChecks, shareNoise } from '../../shared/checks/kpi-checks.ts';
import { DEFAULT_CONFIG } from '../../shared/config/config.ts';
import { versionKpis } from '../../shared/engine/snapshot-cohort.ts';
import type { Kpis } from '../../shared/store/manifest.ts';

/** KPIs of a version of `size` members, `activated` of them active, with `valueSum` in total. */
const kpis = (size: number, activated: number, valueSum: number, metrics: Kpis['metrics'] = DEFAULT_CONFIG.metrics): Kpis =>
  versionKpis({ size, activated, value_sum: valueSum }, 0, 0, metrics);

const check = (name: string, input: Parameters<typeof kpiChecks>[0]) => {
  const found = kpiChecks(input).find((c) => c.name === name);
  if (!found) throw new Error(`no check ${name}`);
  return found;
};

const steady = (n: number) => Array.from({ length: n }, (_, i) => kpis(100, 60 + (i % 3) - 1, 5000 + (i % 3) * 100 - 100));

describe('the KPIs of a version', () => {
  it('are the activation count and share, and the sum and mean of value over the members', () => {
    expect(kpis(200, 50, 1234.5)).toMatchObject({
      size: 200,
      activation_count: 50,
      activation_share: 0.25,
      value_sum: 1234.5,
      value_mean: 6.1725,
    });
  });

  it('have no share or mean for an empty cohort, and round away the noise of adding doubles', () => {
    expect(kpis(0, 0, 0)).toMatchObject({ activation_share: null, value_mean: null, value_sum: 0 });
    expect(kpis(3, 1, 0.1 + 0.2)).toMatchObject({ activation_share: 0.333333, value_sum: 0.3, value_mean: 0.1 });
  });
});

describe('the KPI shift checks against the previous published version', () => {
  const previous = { version: 4, kpis: kpis(100, 60, 5000) };

  it('pass a small move of the activation share and warn past 10 points, saying both shares', () => {
    expect(check('kpi.activation_change', { kpis: kpis(100, 55, 5000), previous, history: [] })).toMatchObject({
      status: 'pass',
      observed: -5,
      threshold: 10,
    });
    const dropped = check('kpi.activation_change', { kpis: kpis(100, 45, 5000), previous, history: [] });
    expect(dropped).toMatchObject({ status: 'warn', observed: -15, threshold: 10 });
    expect(dropped.message).toBe('activation share moved from 60% in v4 to 45% (-15 points); warns beyond 10 points');
  });

  it('fail and so hold the version past a configured fail level', () => {
    const quality = { activation_change: { warn: 5, fail: 12 } };
    const checks = kpiChecks({ kpis: kpis(100, 45, 5000), previous, history: [], quality });
    expect(checks.find((c) => c.name === 'kpi.activation_change')).toMatchObject({ status: 'fail', observed: -15, threshold: 5 });
    expect(checks.find((c) => c.name === 'kpi.activation_change')?.message).toContain('warns beyond 5 points, holds beyond 12 points');
    expect(verdict(checks)).toBe('held');
    expect(check('kpi.activation_change', { kpis: kpis(100, 52, 5000), previous, history: [], quality }).status).toBe('warn');
  });

  it('warn when the value sum or the value per member moves more than half, and pass otherwise', () => {
    const halved = kpiChecks({ kpis: kpis(100, 60, 2400), previous, history: [] });
    expect(halved.find((c) => c.name === 'kpi.value_sum_change')).toMatchObject({ status: 'warn', observed: -52, threshold: 50 });
    expect(halved.find((c) => c.name === 'kpi.value_mean_change')).toMatchObject({ status: 'warn', observed: -52 });
    expect(halved.find((c) => c.name === 'kpi.value_sum_change')?.message).toBe(
      'value sum moved from 5,000 in v4 to 2,400 (-52%); warns beyond 50%',
    );
    // The same sum spread over twice the members: the sum holds, the mean halves.
    const spread = kpiChecks({ kpis: kpis(200, 120, 5000), previous, history: [] });
    expect(spread.find((c) => c.name === 'kpi.value_sum_change')?.status).toBe('pass');
    expect(spread.find((c) => c.name === 'kpi.value_mean_change')?.status).toBe('pass');
    expect(check('kpi.value_mean_change', { kpis: kpis(250, 150, 5000), previous, history: [] }).status).toBe('warn');
    expect(
      check('kpi.value_sum_change', { kpis: kpis(100, 60, 2400), previous, history: [], quality: { value_change: { warn: 60 } } }).status,
    ).toBe('pass');
    expect(
      check('kpi.value_sum_change', { kpis: kpis(100, 60, 2400), previous, history: [], quality: { value_change: { fail: 50 } } }).status,
    ).toBe('fail');
  });

  it('call a value from nothing infinite, and nothing to nothing no move', () => {
    const fromZero = { version: 1, kpis: kpis(100, 60, 0) };
    expect(check('kpi.value_sum_change', { kpis: kpis(100, 60, 10), previous: fromZero, history: [] })).toMatchObject({
      status: 'warn',
      observed: 'infinite',
    });
    expect(check('kpi.value_sum_change', { kpis: kpis(100, 60, 0), previous: fromZero, history: [] })).toMatchObject({
      status: 'pass',
      observed: 0,
    });
  });

  it('do not compare versions with too few members, a changed metric or no KPIs, and say why', () => {
    const small = check('kpi.activation_change', { kpis: kpis(20, 2, 0), previous: { version: 2, kpis: kpis(20, 18, 0) }, history: [] });
    expect(small).toMatchObject({ status: 'pass', observed: 0.1 });
    expect(small.message).toBe(
      `activation share not compared with v2: too few members (20, at least ${KPI_CHECK_DEFAULTS.min_size} needed) for the activation share to mean much`,
    );
    expect(
      check('kpi.activation_change', {
        kpis: kpis(20, 2, 0),
        previous: { version: 2, kpis: kpis(20, 18, 0) },
        history: [],
        quality: { min_size: 10 },
      }).status,
    ).toBe('warn');
    const otherMetric = { ...DEFAULT_CONFIG.metrics, activation: { ...DEFAULT_CONFIG.metrics.activation, events: ['login'] } };
    const changed = kpiChecks({ kpis: kpis(100, 10, 5000, otherMetric), previous, history: [] });
    expect(changed.find((c) => c.name === 'kpi.activation_change')).toMatchObject({ status: 'pass' });
    expect(changed.find((c) => c.name === 'kpi.activation_change')?.message).toContain(
      'the activation metric was configured differently then',
    );
    // The value metric did not change, so it is still compared.
    expect(changed.find((c) => c.name === 'kpi.value_sum_change')?.message).toContain('moved from 5,000 in v4 to 5,000');
    expect(check('kpi.value_sum_change', { kpis: kpis(100, 60, 1), previous: { version: 3 }, history: [] }).message).toBe(
      'value sum not compared with v3: that version predates KPIs',
    );
  });

  it('are absent for a first version', () => {
    expect(kpiChecks({ kpis: kpis(100, 60, 5000), history: [] }).map((c) => c.name)).toEqual([
      'kpi.activation_vs_history',
      'kpi.value_sum_vs_history',
      'kpi.value_mean_vs_history',
    ]);
  });
});

describe('the KPI shift checks against the history of versions', () => {
  it('start once five comparable versions exist, then warn on an outlier and pass an ordinary version', () => {
    expect(check('kpi.activation_vs_history', { kpis: kpis(100, 20, 5000), history: steady(4) })).toMatchObject({
      status: 'pass',
      threshold: null,
    });
    const outlier = check('kpi.activation_vs_history', { kpis: kpis(100, 20, 5000), history: steady(6) });
    expect(outlier).toMatchObject({ status: 'warn', threshold: 3.5 });
    expect(outlier.message).toMatch(
      /^activation share 20% is -\d+(\.\d+)? robust deviations from the median of the last 6 versions; warns beyond 3\.5$/,
    );
    expect(check('kpi.activation_vs_history', { kpis: kpis(100, 61, 5000), history: steady(6) }).status).toBe('pass');
    expect(check('kpi.value_mean_vs_history', { kpis: kpis(100, 60, 9000), history: steady(6) }).status).toBe('warn');
    expect(check('kpi.value_sum_vs_history', { kpis: kpis(100, 60, 5050), history: steady(6) }).status).toBe('pass');
  });

  it('never find a share steadier than its sampling noise: 63 of 64 after six versions of 64 of 64 is no outlier', () => {
    const full = Array.from({ length: 6 }, () => kpis(64, 64, 5000));
    // MAD 0: without a noise floor, "infinite robust deviations". The noise of 64 members near 100%: 2.1 points.
    expect(shareNoise(kpis(64, 63, 5000))(1)).toBeCloseTo(0.02112, 5);
    expect(check('kpi.activation_vs_history', { kpis: kpis(64, 63, 5000), history: full })).toMatchObject({
      status: 'pass',
      observed: -0.74,
    });
    expect(check('kpi.activation_vs_history', { kpis: kpis(64, 40, 5000), history: full })).toMatchObject({
      status: 'warn',
      observed: -17.76,
    });
    // Where the versions wobble more than the noise, the MAD judges as before: 59-61% of 100, MAD 1 point.
    expect(check('kpi.activation_vs_history', { kpis: kpis(100, 20, 5000), history: steady(6) }).observed).toBe(-8.15);
  });

  it('never find a value sum or mean steadier than 3% of its median: one large purchase is no outlier, a halving or doubling is', () => {
    // dach_customers replaying the sample lake: 178-181 members, versions 1-13, then one large purchase and no member change.
    const sums = [318073.47, 317958.04, 318006.15, 318373.17, 317500.28, 317200.8, 318546.67, 320712.5, 320212.06, 315051.48];
    const history = [...sums, 315930.52, 316544.59, 316764.11].map((sum) => kpis(179, 110, sum));
    const judged = (sum: number) => kpiChecks({ kpis: kpis(178, 110, sum), history });
    const status = (sum: number, name: string) => judged(sum).find((c) => c.name === name);
    // The MAD of these sums is 0.2% of them: without the floor, 12.9 and 10.3 robust deviations.
    expect(status(332422.49, 'kpi.value_sum_vs_history')).toMatchObject({ status: 'pass', observed: 1.52 });
    expect(status(332422.49, 'kpi.value_mean_vs_history')).toMatchObject({ status: 'pass', observed: 1.71 });
    const median = 317958.04;
    for (const fault of [median / 2, median * 2, 0]) {
      expect(status(fault, 'kpi.value_sum_vs_history')?.status).toBe('warn');
      expect(status(fault, 'kpi.value_mean_vs_history')?.status).toBe('warn');
    }
    // A drift of 12% from the median warns (beyond 3.5 x 3% = 10.5%), a move of 10% does not.
    expect(status(median * 1.12, 'kpi.value_sum_vs_history')).toMatchObject({ status: 'warn', observed: 4 });
    expect(status(median * 0.9, 'kpi.value_sum_vs_history')?.status).toBe('pass');
    // A declared z keeps its meaning on that scale, fail included: the halved sum holds the version.
    const quality = { history_z: { warn: 1, fail: 8 } };
    expect(check('kpi.value_sum_vs_history', { kpis: kpis(178, 110, 332422.49), history, quality }).status).toBe('warn');
    expect(verdict(kpiChecks({ kpis: kpis(178, 110, median / 2), history, quality }))).toBe('held');
  });

  it('warn of a shift once and hold at a declared fail level every time', () => {
    // integration_adopters replaying the sample lake: its value sum rose 30% when 8 members joined, and stayed there.
    const sums = [5000, 5050, 4950, 5000, 5100, 4900, 5000, 6500, 6520, 6480, 6510, 8600];
    const judge = (quality?: { history_z: { warn?: number; fail?: number } }) =>
      sums.map((sum, i) =>
        check('kpi.value_sum_vs_history', {
          kpis: kpis(100, 60, sum),
          history: sums.slice(0, i).map((earlier) => kpis(100, 60, earlier)),
          ...(quality ? { quality } : {}),
        }),
      );
    const verdicts = judge();
    // 5 without history | 2 in it | the rise | the same shift | a further rise
    expect(verdicts.map((v) => v.status).join(' ')).toBe('pass pass pass pass pass pass pass warn pass pass pass warn');
    expect(verdicts[10]?.message).toMatch(
      /^value sum 6,510 is \d+(\.\d+)? robust deviations .*; warns beyond 3\.5; the shift the version 3 back warned of, not moved on since \(not warned again\)$/,
    );
    // A declared fail is a hard line: every version beyond it is held, a repeated shift included.
    expect(
      judge({ history_z: { fail: 5 } })
        .map((v) => v.status)
        .slice(7),
    ).toEqual(['fail', 'fail', 'fail', 'fail', 'fail']);
  });

  it('take their levels from quality.kpis.history_z, fail included', () => {
    expect(
      check('kpi.value_sum_vs_history', { kpis: kpis(100, 60, 9000), history: steady(6), quality: { history_z: { warn: 100 } } }).status,
    ).toBe('pass');
    expect(
      check('kpi.value_sum_vs_history', { kpis: kpis(100, 60, 9000), history: steady(6), quality: { history_z: { fail: 10 } } }).status,
    ).toBe('fail');
  });

  it('leave out versions without KPIs, with too few members or with another metric', () => {
    const otherMetric = { ...DEFAULT_CONFIG.metrics, value: { ...DEFAULT_CONFIG.metrics.value, sources: ['crm'] } };
    const history = [undefined, kpis(10, 1, 1), ...steady(4), kpis(100, 60, 1, otherMetric)];
    const judged = check('kpi.value_sum_vs_history', { kpis: kpis(100, 60, 9000), history });
    expect(judged).toMatchObject({ status: 'pass' });
    expect(judged.message).toBe('value sum not judged against the history: 4 comparable earlier versions; the check starts at 5');
  });
});
