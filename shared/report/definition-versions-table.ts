import type { DiffLine } from '../governance/line-diff.ts';
import type { ApprovalDecision } from '../governance/records.ts';
import { none } from './badges.ts';
import type { DefinitionVersionView } from './definition-history.ts';
import { formatInstant } from './format.ts';
import type { CohortHistory } from './history.ts';
import { html, type SafeHtml } from './html.ts';

/** `v1–v3, v5`: membership versions as ranges, so an hourly cohort's hundreds of versions stay one line. */
export function versionRanges(versions: readonly number[]): string {
  const ranges: [number, number][] = [];
  for (const v of versions) {
    const last = ranges.at(-1);
    if (last && v === last[1] + 1) last[1] = v;
    else ranges.push([v, v]);
  }
  return ranges.map(([a, b]) => (a === b ? `v${a}` : `v${a}\u2013v${b}`)).join(', ');
}

function approvalCell(approval: ApprovalDecision | null): SafeHtml {
  if (!approval) return none('not needed');
  return html`${approval.decision} by <span data-field="approval-by">${approval.by}</span><span class="sub"><time datetime="${approval.at}">${formatInstant(
    approval.at,
  )}</time></span><span class="sub" data-field="approval-note">${approval.note}</span>`;
}

function row(view: DefinitionVersionView, newest: number): SafeHtml {
  const e = view.entry;
  return html`<tr data-definition-version="${String(e.version)}" data-memberships="${view.memberships.join(' ')}">
<th scope="row" class="num">d${String(e.version)}${e.version === newest ? html`<span class="sub">latest</span>` : ''}</th>
<td><time datetime="${e.accepted_at}" data-field="accepted-at">${formatInstant(e.accepted_at)}</time><span class="sub">run ${e.run_id}</span></td>
<td data-field="change">${e.change}${view.fields.length > 0 ? html`<span class="sub">${view.fields.join(', ')}</span>` : ''}</td>
<td data-field="change-reason">${e.change_reason ?? none('none')}</td>
<td data-field="author">${e.author ?? none('unknown')}</td>
<td data-field="approval">${approvalCell(e.approval)}</td>
<td data-field="memberships">${view.memberships.length > 0 ? versionRanges(view.memberships) : none('none yet')}${
    e.hash ? html`<span class="sub"><code>${e.hash.slice(0, 12)}</code></span>` : ''
  }</td>
</tr>`;
}

/** A rule diff as a figure: `-` removed, `+` added lines, each marked by its sign (colour only helps). */
export function ruleDiffFigure(lines: readonly DiffLine[], caption: string, key: string): SafeHtml {
  const shown = lines.map(
    (line) =>
      html`<span class="${line.op === '+' ? 'diff-add' : line.op === '-' ? 'diff-del' : 'diff-same'}">${line.op} ${line.text}</span>`,
  );
  return html`<figure class="diff" data-rule-diff="${key}"><figcaption>${caption}</figcaption><pre class="rule" aria-label="${caption}"><code>${shown}</code></pre></figure>`;
}

function ruleDiff(view: DefinitionVersionView): SafeHtml {
  if (!view.ruleDiff) return html``;
  const v = view.entry.version;
  return ruleDiffFigure(view.ruleDiff, `Rule of d${v - 1} \u2192 d${v}`, String(v));
}

/**
 * A cohort's accepted definition versions, newest first: when, what changed and why, who wrote
 * and who approved it, and which membership versions each made; then the rule diffs between them.
 */
export function definitionVersionsTable(history: CohortHistory): SafeHtml {
  const views = history.definitionVersions;
  if (views.length === 0) return html``;
  const newest = views.at(-1)?.entry.version ?? 0;
  const newestFirst = [...views].reverse();
  return html`<h3>Definition versions</h3>
<div class="table-wrap"><table class="definitions">
<caption>Newest first: every definition a refresh accepted, from <code>catalog/cohort=${history.definition.id}/</code>.</caption>
<thead><tr><th scope="col" class="num">Definition</th><th scope="col">Accepted</th><th scope="col">Change</th><th scope="col">Change reason</th><th scope="col">Author</th><th scope="col">Approval</th><th scope="col">Membership versions</th></tr></thead>
<tbody>${newestFirst.map((v) => row(v, newest))}</tbody>
</table></div>
${newestFirst.map(ruleDiff)}`;
}
