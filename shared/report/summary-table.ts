import { deprecatedBadge, none, statusBadge } from './badges.ts';
import { changePct, DRIFT_THRESHOLD_PCT } from './drift.ts';
import { formatEntered, formatExited, formatInstant, formatNumber, formatPercent } from './format.ts';
import type { CohortHistory } from './history.ts';
import { activationCell, valueMeanCell } from './kpi-table.ts';
import { freshnessNote } from './freshness-cell.ts';
import { html, type SafeHtml } from './html.ts';

function checksCell(history: CohortHistory): SafeHtml {
  if (!history.latest) return none('\u2014');
  const checks = history.latest.checks;
  const failed = checks.filter((c) => c.status === 'fail').map((c) => c.name);
  const warned = checks.filter((c) => c.status === 'warn').map((c) => c.name);
  if (failed.length === 0 && warned.length === 0)
    return html`<span data-field="checks-ok">all ${formatNumber(checks.length)} passed</span>`;
  return html`${failed.length > 0 ? html`<span class="badge fail">fail</span> <span data-field="failing">${failed.join(', ')}</span> ` : ''}${
    warned.length > 0 ? html`<span class="badge warn">warn</span> <span data-field="warning">${warned.join(', ')}</span>` : ''
  }`;
}

function changeCell(history: CohortHistory): SafeHtml {
  const latest = history.latest;
  if (!latest) return none('\u2014');
  const pct = history.baseline ? changePct(history.baseline.size, latest.size) : undefined;
  const drift = pct !== undefined && Math.abs(pct) > DRIFT_THRESHOLD_PCT;
  return html`<span data-field="entered">${formatEntered(latest.entered)}</span> / <span data-field="exited">${formatExited(latest.exited)}</span>${
    pct === undefined
      ? html`<span class="sub">first version</span>`
      : html`<span class="sub">${formatPercent(pct)} vs v${String(history.baseline?.version)}${drift ? html` <strong>drift</strong>` : ''}</span>`
  }`;
}

function kpiCell(history: CohortHistory): SafeHtml {
  const kpis = history.latest?.kpis;
  if (!kpis) return html`<span data-field="activation">${none('\u2014')}</span>`;
  return html`<span data-field="activation">${activationCell(kpis)}</span><span class="sub"><span data-field="value-mean">${valueMeanCell(kpis)}</span> per member</span>`;
}

function row(history: CohortHistory): SafeHtml {
  const { definition, latest, current } = history;
  const currentCell = current === undefined ? none('none') : html`<span data-field="current">v${String(current)}</span>`;
  const latestCell = latest
    ? html`<span data-field="latest">v${String(latest.version)}</span><span class="sub"><time datetime="${latest.as_of}">${formatInstant(latest.as_of)}</time></span>${freshnessNote(latest)}`
    : none('never refreshed');
  return html`<tr data-cohort="${definition.id}">
<th scope="row"><a href="#cohort-${definition.id}">${definition.name}</a> ${definition.deprecated ? deprecatedBadge() : ''}<span class="sub"><code>${definition.id}</code> · ${definition.tier}</span></th>
<td class="num">${currentCell}</td>
<td class="num">${latestCell}</td>
<td class="num" data-field="size">${latest ? formatNumber(latest.size) : none('\u2014')}</td>
<td class="num">${changeCell(history)}</td>
<td class="num">${kpiCell(history)}</td>
<td data-field="status">${latest ? statusBadge(latest.status) : none('\u2014')}</td>
<td class="checks">${checksCell(history)}</td>
</tr>`;
}

/** One row per cohort: current and latest version, size, change, status and failing or warning checks. */
export function summaryTable(histories: readonly CohortHistory[]): SafeHtml {
  return html`<div class="table-wrap"><table id="summary">
<caption>Size, change, KPIs, checks and how old the data is (as-of minus the newest event read) are those of each cohort's latest version; downstream systems see the current (latest published) version.</caption>
<thead><tr><th scope="col">Cohort</th><th scope="col" class="num">Current</th><th scope="col" class="num">Latest</th><th scope="col" class="num">Size</th><th scope="col" class="num">Entered / exited</th><th scope="col" class="num">Activation<span class="sub">value per member</span></th><th scope="col">Status</th><th scope="col">Failing / warning checks</th></tr></thead>
<tbody>
${histories.map(row)}
</tbody>
</table></div>`;
}
