import { configSchema } from '../config/schema.ts';
import { canonicalJson } from '../language/canonical.ts';
import { readYamlData } from '../language/yaml-document.ts';

/**
 * The config sections an upload through `incoming/` may change only with an approval: `privacy`
 * (personal properties, the suppression list) and `guardrails` (when a core cohort's change waits
 * for an approval). Whoever may upload definitions could otherwise turn off the opt-out list or
 * every approval. Such an upload waits as the pending config (see pending-config.ts).
 */
export const GOVERNED_SECTIONS = ['privacy', 'guardrails'] as const;

/** A governed config section. */
export type GovernedSection = (typeof GOVERNED_SECTIONS)[number];

/**
 * The governed sections an uploaded config changes against the live one (`liveText` undefined:
 * there is no live config, so the defaults). Sections are compared with their defaults filled
 * in, so writing out a default is no change.
 */
export function changedGovernedSections(uploadText: string, liveText: string | undefined): GovernedSection[] {
  const uploaded = readYamlData(uploadText, 'upload');
  const current = readYamlData(liveText ?? '', 'live');
  return GOVERNED_SECTIONS.filter(
    (section) => (uploaded.ok ? settled(section, uploaded.data) : undefined) !== (current.ok ? settled(section, current.data) : undefined),
  );
}

/** A section as it takes effect (defaults filled in), or as written when it does not validate. */
function settled(section: GovernedSection, data: unknown): string {
  const value = data !== null && typeof data === 'object' ? (data as Record<string, unknown>)[section] : undefined;
  const parsed = configSchema.shape[section].safeParse(value);
  return parsed.success ? canonicalJson(parsed.data) : `as written: ${canonicalJson(value ?? null)}`;
}
