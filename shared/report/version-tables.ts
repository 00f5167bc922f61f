import type { Manifest } from '../store/manifest.ts';
import { checkBadge, statusBadge } from './badges.ts';
import { formatEntered, formatExited, formatInstant, formatNumber, formatValue } from './format.ts';
import type { CohortHistory } from './history.ts';
import { html, type SafeHtml } from './html.ts';

/** Rows of the versions table at most (the newest); hourly cohorts would otherwise bloat the page. */
export const MAX_VERSION_ROWS = 50;

/** Every version of a cohort, newest first: as_of, status, size, entered, exited, trigger and the definition version it was made from. */
export function versionsTable(history: CohortHistory): SafeHtml {
  if (history.manifests.length === 0) return html``;
  const newestFirst = [...history.manifests].reverse().slice(0, MAX_VERSION_ROWS);
  const rows = newestFirst.map(
    (m) => html`<tr data-version="${String(m.version)}">
<th scope="row" class="num">v${String(m.version)}${m.version === history.current ? html`<span class="sub">current</span>` : ''}</th>
<td><time datetime="${m.as_of}">${formatInstant(m.as_of)}</time></td>
<td>${statusBadge(m.status)}</td>
<td class="num" data-field="size">${formatNumber(m.size)}</td>
<td class="num" data-field="entered">${formatEntered(m.entered)}</td>
<td class="num" data-field="exited">${formatExited(m.exited)}</td>
<td>${m.trigger}${m.rationale ? html`<span class="sub">${m.rationale}</span>` : ''}</td>
<td data-field="definition">${m.definition.version === undefined ? '' : `d${m.definition.version}`}<span class="sub"><code>${m.definition.hash.slice(0, 12)}</code></span></td>
</tr>`,
  );
  const cut =
    history.manifests.length > newestFirst.length
      ? ` (newest ${formatNumber(newestFirst.length)} of ${formatNumber(history.manifests.length)})`
      : '';
  return html`<h3>Versions</h3>
<div class="table-wrap"><table class="versions">
<caption>Newest first${cut}; entered and exited count against the previous published version.</caption>
<thead><tr><th scope="col" class="num">Version</th><th scope="col">As of</th><th scope="col">Status</th><th scope="col" class="num">Size</th><th scope="col" class="num">Entered</th><th scope="col" class="num">Exited</th><th scope="col">Trigger</th><th scope="col">Definition</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`;
}

/** The check results of one version: name, status, observed, threshold and message. */
export function checksTable(latest: Manifest | undefined): SafeHtml {
  if (!latest) return html``;
  const rows = latest.checks.map(
    (c) =>
      html`<tr data-check="${c.name}"><th scope="row"><code>${c.name}</code></th><td>${checkBadge(c.status)}</td><td class="num">${formatValue(
        c.observed,
      )}</td><td class="num">${formatValue(c.threshold)}</td><td>${c.message}</td></tr>`,
  );
  return html`<h3>Checks of v${String(latest.version)}</h3>
${
  latest.checks.length === 0
    ? html`<p class="none-text">No checks recorded.</p>`
    : html`<div class="table-wrap"><table class="checks">
<thead><tr><th scope="col">Check</th><th scope="col">Status</th><th scope="col" class="num">Observed</th><th scope="col" class="num">Threshold</th><th scope="col">Message</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`
}`;
}
