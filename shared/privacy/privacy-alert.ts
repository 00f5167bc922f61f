import type { PrivacyReport } from './privacy-check.ts';
import type { Alert, AlertSeverity } from '../ports.ts';

const ORDER: readonly AlertSeverity[] = ['info', 'warn', 'fail', 'error'];
const worst = (a: AlertSeverity, b: AlertSeverity): AlertSeverity => (ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b);

/**
 * The run's alert with the privacy check's findings added: a forgotten person or a personal
 * property found is `fail`, a suppressed person still published is `warn`. Without findings the
 * alert is unchanged (and a run that needed none still needs none).
 */
export function withPrivacyFindings(
  alert: Alert | undefined,
  report: PrivacyReport | undefined,
  run: { readonly run_id: string; readonly as_of: string },
): Alert | undefined {
  if (!report || report.findings.length === 0) return alert;
  const severity = report.findings.some((f) => f.kind !== 'suppressed') ? 'fail' : 'warn';
  const lines = [
    '',
    `Privacy check (${report.versions} versions, ${report.exports} export files):`,
    ...report.findings.map((f) => `  ${f.kind}: ${f.message}`),
  ];
  const count = `privacy check: ${report.findings.length} finding${report.findings.length === 1 ? '' : 's'}`;
  const title = alert ? `${alert.title}; ${count}` : `cohort refresh ${run.as_of}: ${count}`;
  return {
    ...(alert ?? { cohorts: [], body: `Run ${run.run_id} as of ${run.as_of}.`, run_id: run.run_id }),
    severity: worst(alert?.severity ?? 'info', severity),
    title: title.length <= 100 ? title : `${title.slice(0, 99)}…`,
    body: [alert?.body ?? `Run ${run.run_id} as of ${run.as_of}.`, ...lines].join('\n'),
    details: { ...alert?.details, privacy: report.findings.map(({ kind, location, count: n }) => ({ kind, location, count: n })) },
  };
}
