import type { OpenChange } from '../governance/open-changes.ts';
import type { Manifest } from '../store/manifest.ts';
import { deprecatedBadge, none } from './badges.ts';
import { chartedVersions, hasKpis } from './chart-data.ts';
import { deprecationText, field, programFields, qualityText, ruleBlock } from './definition-fields.ts';
import { driftList } from './drift-list.ts';
import { formatNumber, formatShare } from './format.ts';
import type { CohortHistory } from './history.ts';
import { html, type SafeHtml } from './html.ts';
import { experimentSplit } from './experiment-split.ts';
import { openChangeRuleDiff } from './definition-history.ts';
import { definitionVersionsTable, ruleDiffFigure } from './definition-versions-table.ts';
import { kpiTable } from './kpi-table.ts';
import { openChangesPanel } from './open-changes-panel.ts';
import { learningsList } from './learnings-list.ts';
import { checksTable, versionsTable } from './version-tables.ts';

function chart(history: CohortHistory): SafeHtml {
  const { definition, manifests } = history;
  if (manifests.length === 0) return html`<p class="none-text">Never refreshed: no versions yet.</p>`;
  const shown = chartedVersions(manifests);
  const series = shown.map((m) => `v${m.version} ${formatNumber(m.size)}${m.status === 'held' ? ' (held)' : ''}`).join('; ');
  const cut =
    manifests.length > shown.length
      ? html`<p class="meta">The chart shows the newest ${formatNumber(shown.length)} of ${formatNumber(manifests.length)} versions.</p>`
      : '';
  const legend = shown.some((m) => m.status === 'held')
    ? html`<p class="legend"><span class="held-mark" aria-hidden="true">\u25c6</span> held version (not published)</p>`
    : '';
  const label = `Size of ${definition.name} over versions: ${series}`;
  const canvas = html`<canvas id="chart-${definition.id}" role="img" aria-label="${label}">Size by version: ${series}</canvas>`;
  return html`<div class="chart">${canvas}</div>${legend}${cut}`;
}

/** Activation share and value per member over versions, on two axes. */
function kpiChart(history: CohortHistory): SafeHtml {
  if (!hasKpis(history)) return html``;
  const { definition } = history;
  const series = chartedVersions(history.manifests).map(kpiPoint).join('; ');
  const label = `Activation share and value per member of ${definition.name} over versions: ${series}`;
  const canvas = html`<canvas id="kpi-chart-${definition.id}" role="img" aria-label="${label}">KPIs by version: ${series}</canvas>`;
  return html`<h3>KPIs over versions</h3><div class="chart">${canvas}</div>`;
}

/** One version's KPIs in the KPI chart's text: "v3 12.5%, 40 per member". */
function kpiPoint(m: Manifest): string {
  const activation = m.kpis?.activation_share == null ? 'no activation' : formatShare(m.kpis.activation_share);
  const value = m.kpis?.value_mean == null ? 'no value' : formatNumber(m.kpis.value_mean);
  return `v${m.version} ${activation}, ${value} per member`;
}

/** Where an open change stands, in words. */
function outcomeText(change: OpenChange): string {
  return change.record.outcome === 'pending' ? 'waiting for approval' : 'refused';
}

/** What an open change would do to the rule: its accepted version against the working definition shown below. */
function openChangeDiffs(history: CohortHistory): SafeHtml[] {
  return history.openChanges.flatMap((change) => {
    const lines = openChangeRuleDiff(change, history.definition);
    if (!lines || !change.published) return [];
    const title = `Rule of d${change.published.version} \u2192 the working definition (${outcomeText(change)})`;
    return [ruleDiffFigure(lines, title, 'working')];
  });
}

function definitionList(history: CohortHistory): SafeHtml {
  const d = history.definition;
  const link = (id: string) => html`<a href="#cohort-${id}"><code>${id}</code></a>`;
  const retired = deprecationText(d, link);
  const open = history.openChanges.find((c) => c.record.hash === d.hash);
  const used = open?.published ? `d${open.published.version}` : 'none of it';
  const working = open
    ? html`<p class="meta" data-field="working-note">The working definition, ${outcomeText(open)}; refreshes use ${used}.</p>`
    : '';
  return html`<h3>Definition</h3>
${working}
<dl class="fields">
${field('Owner', 'owner', d.owner)}
${field('Purpose', 'purpose', d.purpose)}
${field('Tier', 'tier', d.tier)}
${field('Cadence', 'cadence', d.cadence)}
${field('Limitations', 'limitations', d.limitations ?? none('None recorded'))}
${field('Quality', 'quality', qualityText(d))}
${programFields(d)}
${retired ? field('Deprecated', 'deprecated', retired) : ''}
</dl>
${ruleBlock(d)}`;
}

/**
 * A cohort's section of index.html: charts, its definition changes waiting or refused, versions,
 * definition versions, KPIs, latest checks, drift flags and definition.
 */
export function cohortSection(history: CohortHistory): SafeHtml {
  const d = history.definition;
  const current = history.current === undefined ? 'no published version' : `current v${history.current}`;
  const catalogEntry = html`<a href="catalog.html#cohort-${d.id}">catalog entry</a>`;
  return html`<section class="cohort" id="cohort-${d.id}" aria-labelledby="title-${d.id}">
<h2 id="title-${d.id}">${d.name} ${d.deprecated ? deprecatedBadge() : ''}</h2>
<p class="meta"><code>${d.id}</code> · ${d.tier} · ${d.cadence} · owned by ${d.owner} · ${current} · ${catalogEntry}</p>
<div class="grid">
<div><h3>Size over versions</h3>${chart(history)}${kpiChart(history)}${driftList(history)}</div>
<div>${definitionList(history)}</div>
</div>
${openChangesPanel(history.openChanges)}
${openChangeDiffs(history)}
${versionsTable(history)}
${definitionVersionsTable(history)}
${kpiTable(history)}
${experimentSplit(history)}
${checksTable(history.latest)}
${learningsList(history.learnings)}
</section>`;
}
