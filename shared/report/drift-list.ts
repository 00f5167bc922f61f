import { DRIFT_THRESHOLD_PCT, type DriftFlag } from './drift.ts';
import { formatInstant, formatNumber, formatPercent } from './format.ts';
import type { CohortHistory } from './history.ts';
import { html, type SafeHtml } from './html.ts';

/** Flags listed at most (the newest). */
export const MAX_FLAGS = 50;

const instant = (iso: string) => html`<time datetime="${iso}">${formatInstant(iso)}</time>`;

function flagText(flag: DriftFlag): SafeHtml {
  if (flag.kind === 'held') {
    const why = flag.failed.length > 0 ? html` by failing ${flag.failed.join(', ')}` : '';
    return html`<strong>v${String(flag.version)}</strong> (${instant(flag.as_of)}) was held${why}; current did not move.`;
  }
  return html`<strong>v${String(flag.version)}</strong> (${instant(flag.as_of)}): size ${formatNumber(flag.from)} \u2192 ${formatNumber(flag.to)} (${formatPercent(
    flag.changePct,
  )}) against v${String(flag.baseline)}.`;
}

/** A cohort's drift flags, newest first, or a sentence saying there are none. */
export function driftList(history: CohortHistory): SafeHtml {
  if (history.manifests.length === 0) return html``;
  const flags = [...history.drift].reverse();
  const shown = flags.slice(0, MAX_FLAGS);
  return html`<h3>Drift flags</h3>
${
  flags.length === 0
    ? html`<p class="none-text" data-field="drift-none">No version moved more than ${String(DRIFT_THRESHOLD_PCT)}% against the previous published version, and none was held.</p>`
    : html`<ul class="flags" data-field="drift">${shown.map((f) => html`<li data-version="${String(f.version)}" data-flag="${f.kind}">${flagText(f)}</li>`)}</ul>${
        flags.length > shown.length
          ? html`<p class="meta">Newest ${formatNumber(shown.length)} of ${formatNumber(flags.length)} flags.</p>`
          : ''
      }`
}`;
}
