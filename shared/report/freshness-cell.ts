import type { Manifest } from '../store/manifest.ts';
import { formatInstant, formatNumber } from './format.ts';
import { html, type SafeHtml } from './html.ts';

/** An age in the unit people read it in: `40 min`, `14.5 h`, `6.1 days`. */
export function formatAge(seconds: number): string {
  if (seconds < 3600) return `${formatNumber(Math.round(seconds / 60))} min`;
  if (seconds < 48 * 3600) return `${formatNumber(Math.round(seconds / 360) / 10)} h`;
  return `${formatNumber(Math.round(seconds / 8640) / 10)} days`;
}

/**
 * How old a version's data is, for the report: `data 14.5 h old` with the newest event's instant,
 * flagged when its `staleness` check warned; nothing for a version written before freshness.
 */
export function freshnessNote(manifest: Manifest): SafeHtml | string {
  const freshness = manifest.freshness;
  if (!freshness) return '';
  const stale = manifest.checks.some((c) => c.name === 'staleness' && c.status !== 'pass');
  const mark = stale ? html` <span class="badge warn">stale</span>` : '';
  if (freshness.newest_event === null || freshness.staleness_seconds === null)
    return html`<span class="sub" data-field="freshness">no recent event read${mark}</span>`;
  const newest = html`<time datetime="${freshness.newest_event}">${formatInstant(freshness.newest_event)}</time>`;
  return html`<span class="sub" data-field="freshness" title="newest event read">data ${formatAge(freshness.staleness_seconds)} old (${newest})${mark}</span>`;
}
