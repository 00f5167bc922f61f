import { formatNumber } from './format.ts';
import type { CohortHistory } from './history.ts';
import { html, type SafeHtml } from './html.ts';

/** The holdout split of the newest version, for a cohort whose program declares one; nothing otherwise. */
export function experimentSplit(history: CohortHistory): SafeHtml {
  const split = history.latest?.experiment;
  if (!history.latest || !split) return html``;
  return html`<p class="meta" data-field="experiment-split">Experiment <strong>${split.name}</strong>: v${String(history.latest.version)} has ${formatNumber(
    split.treatment_size,
  )} in treatment and ${formatNumber(split.holdout_size)} held out (${split.holdout}); exports carry <code>treatment.csv</code> and <code>holdout.csv</code>. Read it out with <code>cohorts experiment ${history.definition.id} --metric EVENT --within 14d</code>.</p>`;
}
