import type { Learning } from '../learnings/learnings-store.ts';
import { formatInstant } from './format.ts';
import { html, type SafeHtml } from './html.ts';

/** A cohort's notes from the learnings library, newest first; nothing when it has none. */
export function learningsList(learnings: readonly Learning[]): SafeHtml {
  if (learnings.length === 0) return html``;
  const items = [...learnings].reverse().map(
    (l) => html`<li data-learning-version="${l.version === null ? '' : String(l.version)}"><p>${l.note}</p>
<p class="meta">${l.version === null ? 'the cohort' : `v${l.version}`} · ${l.by ?? 'author unknown'} · <time datetime="${l.recorded_at}">${formatInstant(l.recorded_at)}</time></p></li>`,
  );
  return html`<h3>Learnings</h3>
<ul class="learnings">${items}</ul>`;
}
