import type { CohortDefinition } from '../language/ast.ts';
import type { CohortGraph } from '../language/graph.ts';
import { deprecatedBadge, none } from './badges.ts';
import { deprecationText, field, programFields, qualityText, ruleBlock } from './definition-fields.ts';
import { formatInstant, formatNumber } from './format.ts';
import { html, type SafeHtml } from './html.ts';
import { page } from './layout.ts';
import { readsNothing, type SourceReads, sourceReads } from '../language/source-reads.ts';

const sorted = (ids: readonly string[]) => [...ids].sort();
const codeList = (items: readonly string[]) => items.map((item, i) => html`${i > 0 ? ', ' : ''}<code>${item}</code>`);

function readsText(reads: SourceReads): SafeHtml {
  const named = (items: readonly string[]) => (items.length > 0 ? html` (conditions name ${codeList(items)})` : '');
  const events = reads.allEvents ? html`all events${named(reads.events)}` : html`${codeList(reads.events)}`;
  const sources = reads.anySource ? html`all sources${named(reads.sources)}` : html`${codeList(reads.sources)}`;
  return html`<span data-part="events">events: ${events}</span>; <span data-part="sources">sources: ${sources}</span>`;
}

function sourcesField(definition: CohortDefinition, graph: CohortGraph): SafeHtml {
  const direct = sourceReads([definition.rule]);
  const upstream = graph.reached(definition.id, 'dependencies').map((d) => d.rule);
  const through = sourceReads(upstream);
  const own = readsNothing(direct) ? none('No events of its own: it only combines other cohorts') : readsText(direct);
  return html`${own}${upstream.length > 0 && !readsNothing(through) ? html`<span class="sub">through its dependencies, ${readsText(through)}</span>` : ''}`;
}

function cohortLinks(ids: readonly string[], catalog: ReadonlyMap<string, CohortDefinition>, empty: string): SafeHtml {
  if (ids.length === 0) return none(empty);
  return html`<ul class="plain">${ids.map((id) => html`<li><a href="#cohort-${id}">${catalog.get(id)?.name ?? id}</a> <code>${id}</code></li>`)}</ul>`;
}

function entry(definition: CohortDefinition, catalog: ReadonlyMap<string, CohortDefinition>, graph: CohortGraph): SafeHtml {
  const d = definition;
  const link = (id: string) => html`<a href="#cohort-${id}"><code>${id}</code></a>`;
  const retired = deprecationText(d, link);
  const dependants = graph.dependants(d.id);
  const indirect = sorted(graph.closure([d.id], 'dependants').filter((id) => !dependants.includes(id)));
  return html`<article class="entry${d.deprecated ? ' retired' : ''}" id="cohort-${d.id}" data-cohort="${d.id}" aria-labelledby="entry-${d.id}">
<h2 id="entry-${d.id}">${d.name} ${d.deprecated ? deprecatedBadge() : ''}</h2>
<dl class="fields">
${field('Name', 'name', d.name)}
${field('Id', 'id', html`<code>${d.id}</code>`)}
${retired ? field('Deprecated', 'deprecated', retired) : ''}
${field('Purpose', 'purpose', d.purpose)}
${field('Definition', 'rule', ruleBlock(d))}
${field('Sources', 'sources', sourcesField(d, graph))}
${field('Refresh frequency', 'cadence', d.deprecated ? html`${d.cadence} <span class="sub">no longer refreshed: deprecated</span>` : d.cadence)}
${field('Known limitations', 'limitations', d.limitations ?? none('None recorded'))}
${field('Owner', 'owner', d.owner)}
${field('Tier', 'tier', d.tier)}
${field('Quality thresholds', 'quality', qualityText(d))}
${programFields(d)}
${field('Dependencies', 'dependencies', cohortLinks(sorted(graph.dependencies(d.id)), catalog, 'None: it reads events only'))}
${field(
  'Dependants',
  'dependants',
  html`${cohortLinks(sorted(dependants), catalog, 'None')}${
    indirect.length > 0 ? html`<span class="sub" data-field="indirect-dependants">Indirectly also: ${codeList(indirect)}</span>` : ''
  }`,
)}
${field('History', 'history', html`<a href="index.html#cohort-${d.id}">versions, checks and drift</a>`)}
</dl>
</article>`;
}

/** catalog.html: the documentation template of SPEC's product brief for every cohort, retired ones marked. */
export function catalogPage(definitions: readonly CohortDefinition[], graph: CohortGraph, generatedAt: Date): string {
  const byId = new Map(definitions.map((d) => [d.id, d]));
  const ordered = [...definitions].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const live = ordered.filter((d) => !d.deprecated).length;
  const toc = html`<nav aria-label="Cohorts"><h2>Contents</h2><ol class="toc">${ordered.map(
    (d) => html`<li><a href="#cohort-${d.id}">${d.name}</a>${d.deprecated ? ' (deprecated)' : ''}</li>`,
  )}</ol></nav>`;
  return page({
    file: 'catalog.html',
    title: 'Cohort catalog',
    subtitle: html`Generated <time datetime="${generatedAt.toISOString()}">${formatInstant(generatedAt.toISOString())}</time> · ${formatNumber(
      live,
    )} live, ${formatNumber(ordered.length - live)} deprecated`,
    body: html`${toc}${ordered.map((d) => entry(d, byId, graph))}`,
  });
}
