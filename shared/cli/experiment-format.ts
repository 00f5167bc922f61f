import pc from 'picocolors';
import { isSmallArm, type MetricReadOut, SMALL_ARM } from '../experiments/read-out.ts';
import type { Interval } from '../stats/proportion.ts';
import { table } from './format.ts';

const count = new Intl.NumberFormat('en-US');
const signed = (n: number, digits: number) => `${n > 0 ? '+' : n < 0 ? '\u2212' : ''}${Math.abs(n).toFixed(digits)}`;
const points = (n: number) => signed(n * 100, 1);
const interval = (i: Interval, show: (n: number) => string) =>
  i.low === null || i.high === null ? '' : ` [${show(i.low)}, ${show(i.high)}]`;
const pValue = (p: number) => (p < 0.0001 ? '<0.0001' : p.toFixed(4));

/** The table `cohorts experiment` prints: one row per cohort and metric, treatment against holdout. */
export function formatReadOut(rows: readonly MetricReadOut[], within: string): string {
  const body = rows.map((r) => [
    `${r.cohort} v${r.version}`,
    r.metric,
    `${count.format(r.treatment.converted)}/${count.format(r.treatment.size)} ${(r.treatment.rate * 100).toFixed(1)}%`,
    `${count.format(r.holdout.converted)}/${count.format(r.holdout.size)} ${(r.holdout.rate * 100).toFixed(1)}%`,
    `${points(r.comparison.difference)}${interval(r.comparison.scoreInterval, points)}`,
    interval(r.comparison.differenceInterval, points).trim(),
    r.comparison.relative === null
      ? 'n/a'
      : `${points(r.comparison.relative)}%${interval(r.comparison.relativeInterval, (n) => `${points(n)}%`)}`,
    pValue(r.comparison.p),
    rows.length > 1 ? pValue(r.pAdjusted) : '',
    r.needed === null ? 'n/a' : `${count.format(r.needed.a)} + ${count.format(r.needed.b)}`,
  ]);
  const headers = [
    'cohort',
    'metric',
    'treatment',
    'holdout',
    'lift pp [95% CI]',
    'Wald 95% CI',
    'relative [95% CI]',
    'p',
    rows.length > 1 ? 'p (BH)' : '',
    'needed t + h',
  ];
  const lines = [table(headers, body, [2, 3, 7, 8, 9])];
  const experiments = [
    ...new Set(
      rows.map((r) => `${r.cohort} v${r.version}: ${r.experiment}, converted = did the metric in [${r.window.from}, ${r.window.to})`),
    ),
  ];
  lines.push('', ...experiments.map((e) => pc.dim(e)));
  lines.push(
    pc.dim(
      'lift CI: Newcombe hybrid score interval (from Wilson intervals), beside the Wald interval; ' +
        `two-proportion z-test (two-sided); needed: people per arm at this split to detect the observed lift at 80% power, alpha 0.05; within ${within}`,
    ),
  );
  for (const r of rows.filter((row) => isSmallArm(row.treatment) || isSmallArm(row.holdout))) {
    const arms = (['treatment', 'holdout'] as const)
      .filter((name) => isSmallArm(r[name]))
      .map((name) => `${name} ${r[name].converted} of ${r[name].size}`);
    lines.push(
      pc.yellow(
        `small arms for ${r.cohort} v${r.version} ${r.metric} (${arms.join(', ')}; fewer than ${SMALL_ARM.people} people or ${SMALL_ARM.conversions} conversions): ` +
          'the Wald interval and the p-value are unreliable; read the score interval, and wait for more people before deciding',
      ),
    );
  }
  const open = rows.filter((r) => r.incomplete);
  if (open.length > 0)
    lines.push(
      pc.yellow(
        `window not over yet for ${[...new Set(open.map((r) => `${r.cohort} v${r.version}`))].join(', ')}: conversions may still come`,
      ),
    );
  return lines.join('\n');
}
