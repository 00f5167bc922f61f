import type { CheckResult, Manifest } from '../store/manifest.ts';
import { html, type SafeHtml } from './html.ts';

/** A version's status as a labelled badge (the word carries the meaning, colour only helps). */
export function statusBadge(status: Manifest['status']): SafeHtml {
  return html`<span class="badge ${status}">${status}</span>`;
}

/** A check's status as a badge. */
export function checkBadge(status: CheckResult['status']): SafeHtml {
  return html`<span class="badge ${status}">${status}</span>`;
}

/** Marks a retired cohort. */
export function deprecatedBadge(): SafeHtml {
  return html`<span class="badge deprecated">deprecated</span>`;
}

/** Muted text for an absent value. */
export function none(text: string): SafeHtml {
  return html`<span class="none-text">${text}</span>`;
}
