import type { Kpis } from '../store/manifest.ts';
import { none } from './badges.ts';
import { formatEntered, formatExited, formatNumber, formatShare } from './format.ts';
import type { CohortHistory } from './history.ts';
import { html, type SafeHtml } from './html.ts';
import { filterText } from './rule-text.ts';
import { MAX_VERSION_ROWS } from './version-tables.ts';

const dash = () => none('\u2014');

/** The activation share of a version, or a dash (empty cohort, or a version without KPIs). */
export function activationCell(kpis: Kpis | undefined): SafeHtml | string {
  return kpis?.activation_share == null ? dash() : formatShare(kpis.activation_share);
}

/** The value per member of a version, or a dash. */
export function valueMeanCell(kpis: Kpis | undefined): SafeHtml | string {
  return kpis?.value_mean == null ? dash() : formatNumber(kpis.value_mean);
}

/** What the metrics of the newest version with KPIs measure, in the words of the config. */
function metricsNote(history: CohortHistory): SafeHtml {
  const metrics = [...history.manifests].reverse().find((m) => m.kpis)?.kpis?.metrics;
  if (!metrics) return html``;
  return html`<p class="meta" data-field="metrics">Activation: members with at least one event <code>${filterText(metrics.activation)}</code>. Value: the <code>value</code> of events <code>${filterText(
    metrics.value,
  )}</code>, added up per member. Set in <code>metrics:</code> of <code>cohorts.config.yaml</code>.</p>`;
}

/** Every version's KPIs side by side, newest first: size, entered, exited, activation and value. */
export function kpiTable(history: CohortHistory): SafeHtml {
  if (history.manifests.length === 0) return html``;
  const newestFirst = [...history.manifests].reverse().slice(0, MAX_VERSION_ROWS);
  const rows = newestFirst.map((m) => {
    const k = m.kpis;
    return html`<tr data-version="${String(m.version)}">
<th scope="row" class="num">v${String(m.version)}</th>
<td class="num" data-field="kpi-size">${formatNumber(m.size)}</td>
<td class="num" data-field="kpi-entered">${formatEntered(m.entered)}</td>
<td class="num" data-field="kpi-exited">${formatExited(m.exited)}</td>
<td class="num" data-field="kpi-activation-count">${k ? formatNumber(k.activation_count) : dash()}</td>
<td class="num" data-field="kpi-activation-share">${activationCell(k)}</td>
<td class="num" data-field="kpi-value-sum">${k ? formatNumber(k.value_sum) : dash()}</td>
<td class="num" data-field="kpi-value-mean">${valueMeanCell(k)}</td>
</tr>`;
  });
  const older = history.manifests.some((m) => !m.kpis) ? ' A dash: the version predates KPIs (or the cohort was empty).' : '';
  return html`<h3>KPIs</h3>
<div class="table-wrap"><table class="kpis">
<caption>Newest first; activation is the share of members who did the activation event in its window.${older}</caption>
<thead><tr><th scope="col" class="num">Version</th><th scope="col" class="num">Size</th><th scope="col" class="num">Entered</th><th scope="col" class="num">Exited</th><th scope="col" class="num">Activated</th><th scope="col" class="num">Activation</th><th scope="col" class="num">Value sum</th><th scope="col" class="num">Value per member</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>
${metricsNote(history)}`;
}
