import { CHART_SCRIPT } from './chart-script.ts';
import { chartData } from './chart-data.ts';
import type { OpenChange } from '../governance/open-changes.ts';
import { cohortSection } from './cohort-section.ts';
import { DRIFT_THRESHOLD_PCT } from './drift.ts';
import { formatInstant, formatNumber } from './format.ts';
import type { CohortHistory } from './history.ts';
import { html, inlineScript, jsonForScript, type SafeHtml } from './html.ts';
import { page } from './layout.ts';
import { definitionChangesSection } from './open-changes-panel.ts';
import { summaryTable } from './summary-table.ts';

function overview(histories: readonly CohortHistory[], open: readonly OpenChange[] | undefined): SafeHtml {
  const latest = histories.flatMap((h) => (h.latest ? [h.latest] : []));
  const tiles: [string, string, number][] = [
    ['cohorts', 'Cohorts', histories.length],
    ['held', 'Latest version held', latest.filter((m) => m.status === 'held').length],
    ['warned', 'With warnings', latest.filter((m) => m.checks.some((c) => c.status === 'warn')).length],
    [
      'drift',
      `Latest moved over ${DRIFT_THRESHOLD_PCT}%`,
      histories.filter((h) => h.drift.some((f) => f.kind === 'size-change' && f.version === h.latest?.version)).length,
    ],
    ['never', 'Never refreshed', histories.filter((h) => !h.latest).length],
    ...(open
      ? ([
          ['pending', 'Waiting for approval', open.filter((c) => c.record.outcome === 'pending').length],
          ['refused', 'Changes refused', open.filter((c) => c.record.outcome === 'refused').length],
        ] as [string, string, number][])
      : []),
  ];
  return html`<ul class="overview" aria-label="Overview">${tiles.map(
    ([key, label, n]) => html`<li data-tile="${key}"><strong>${formatNumber(n)}</strong>${label}</li>`,
  )}</ul>`;
}

/**
 * index.html: overview, summary table, the definition changes waiting or refused (when the
 * catalog was read: `open`) and one section per cohort, with Chart.js inlined.
 */
export function indexPage(histories: readonly CohortHistory[], generatedAt: Date, chartJs: string, open?: readonly OpenChange[]): string {
  const body = html`<h2 id="summary-title">Summary</h2>
${overview(histories, open)}
${summaryTable(histories)}
${open ? definitionChangesSection(open, new Set(histories.map((h) => h.definition.id))) : ''}
${histories.map(cohortSection)}`;
  const scripts = html`<script type="application/json" id="report-data">${jsonForScript(chartData(histories, generatedAt))}</script>
<script>${inlineScript(chartJs)}</script>
<script>${inlineScript(CHART_SCRIPT)}</script>`;
  return page({
    file: 'index.html',
    title: 'Cohort report',
    subtitle: html`Generated <time datetime="${generatedAt.toISOString()}">${formatInstant(generatedAt.toISOString())}</time> · ${formatNumber(
      histories.length,
    )} cohorts`,
    body,
    scripts,
  });
}
