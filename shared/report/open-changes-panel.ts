import { decisionCommand, LOCAL_DECISIONS } from '../governance/decision-command.ts';
import type { OpenChange } from '../governance/open-changes.ts';
import { none } from './badges.ts';
import { formatInstant } from './format.ts';
import { html, type SafeHtml } from './html.ts';

function kept(change: OpenChange): SafeHtml {
  return change.published
    ? html`<span class="sub">refreshes keep d${String(change.published.version)}</span>`
    : html`<span class="sub">nothing of it is refreshed</span>`;
}

function nextStep(change: OpenChange): SafeHtml {
  const { cohort } = change.record;
  if (change.record.outcome === 'pending') {
    const { hash } = change.record;
    return html`<code data-field="approve-command">${decisionCommand('approve', cohort, hash, LOCAL_DECISIONS)}</code><span class="sub">or <code data-field="reject-command">${decisionCommand(
      'reject',
      cohort,
      hash,
      LOCAL_DECISIONS,
    )}</code></span>`;
  }
  if (change.decision) return html`Rejected: change the definition (a new <code>change_reason</code>) to ask again.`;
  return html`A refused change cannot be approved: change the definition as the reasons say.`;
}

function row(change: OpenChange, linked: ReadonlySet<string>): SafeHtml {
  const r = change.record;
  const cohort = linked.has(r.cohort) ? html`<a href="#cohort-${r.cohort}"><code>${r.cohort}</code></a>` : html`<code>${r.cohort}</code>`;
  return html`<tr data-open-change="${r.cohort}" data-outcome="${r.outcome}" data-hash="${r.hash ?? ''}">
<th scope="row">${cohort}${kept(change)}</th>
<td><time datetime="${r.at}" data-field="since">${formatInstant(r.at)}</time><span class="sub">run ${r.run_id}</span></td>
<td data-field="author">${r.author ?? none('unknown')}</td>
<td data-field="definition">${r.hash ? html`<code>${r.hash.slice(0, 12)}</code>` : 'file removed'}</td>
<td data-field="reasons"><ul class="plain">${r.reasons.map((reason) => html`<li>${reason}</li>`)}</ul></td>
<td data-field="next-step">${nextStep(change)}</td>
</tr>`;
}

function table(changes: readonly OpenChange[], caption: string, linked: ReadonlySet<string>): SafeHtml {
  return html`<div class="table-wrap"><table class="open-changes">
<caption>${caption}</caption>
<thead><tr><th scope="col">Cohort</th><th scope="col">Since</th><th scope="col">Author</th><th scope="col">Definition</th><th scope="col">Reasons</th><th scope="col">To do</th></tr></thead>
<tbody>${changes.map((c) => row(c, linked))}</tbody>
</table></div>`;
}

/**
 * The definition changes still waiting for an approval, then those refused (`openChanges`), with
 * why, who and since when, and what ends them; nothing when there are none. Cohorts in `linked`
 * link to their sections (on the index page).
 */
export function openChangesPanel(changes: readonly OpenChange[], linked: ReadonlySet<string> = new Set()): SafeHtml {
  const pending = changes.filter((c) => c.record.outcome === 'pending');
  const refused = changes.filter((c) => c.record.outcome === 'refused');
  const panel = (kind: string, title: string, shown: readonly OpenChange[], caption: string) =>
    shown.length === 0
      ? ''
      : html`<div class="open-panel ${kind}" data-panel="${kind}"><h3>${title}</h3>${table(shown, caption, linked)}</div>`;
  return html`${panel(
    'pending',
    'Waiting for approval',
    pending,
    'Changes of core cohorts that wait for a decision; refreshes use the accepted definition meanwhile. A decision is for this definition (its hash) only.',
  )}${panel('refused', 'Refused', refused, 'Changes the guardrails refused; refreshes keep the accepted definition until the file changes.')}`;
}

/**
 * The index page's panel of every open definition change (a removed cohort's too, though it has no
 * section), or a line saying there is none.
 */
export function definitionChangesSection(changes: readonly OpenChange[], sections: ReadonlySet<string>): SafeHtml {
  return html`<section id="definition-changes" aria-labelledby="definition-changes-title">
<h2 id="definition-changes-title">Definition changes</h2>
${changes.length === 0 ? html`<p class="none-text" data-panel="none">No definition change is waiting for an approval or refused.</p>` : openChangesPanel(changes, sections)}
</section>`;
}
