import { type Document, isMap, isPair, isScalar } from 'yaml';
import { configSchema } from '../config/schema.ts';
import { canonicalJson } from '../language/canonical.ts';
import type { DefinitionProblem } from '../language/errors.ts';
import { readYamlData } from '../language/yaml-document.ts';

/**
 * The config sections an upload through `incoming/` may not change: `privacy` (personal
 * properties, the suppression list) and `guardrails` (when a core cohort's change waits for an
 * approval). Whoever may upload definitions could otherwise turn off the opt-out list or every
 * approval. Such a change is made by someone allowed to write the live config itself.
 */
export const GOVERNED_SECTIONS = ['privacy', 'guardrails'] as const;

type Section = (typeof GOVERNED_SECTIONS)[number];

/**
 * Problems for every governed section an uploaded config changes against the live one (absent
 * live config: the defaults). Sections are compared with their defaults filled in, so writing out
 * a default is no change. `liveText` undefined: there is no live config.
 */
export function governedChangeProblems(
  upload: { readonly path: string; readonly text: string },
  live: { readonly location: string; readonly text: string | undefined },
): DefinitionProblem[] {
  const uploaded = readYamlData(upload.text, upload.path);
  const current = readYamlData(live.text ?? '', live.location);
  if (!uploaded.ok) return [...uploaded.problems];
  return GOVERNED_SECTIONS.filter((section) => settled(section, uploaded.data) !== (current.ok ? settled(section, current.data) : undefined)).map((section) => {
    const key = topLevelKey(uploaded.doc, section);
    return {
      file: upload.path,
      ...(key !== undefined ? { position: uploaded.position(key) } : { position: { line: 1, col: 1 } }),
      message:
        `${section} differs from the live config (${live.location}), and an upload may not change ${GOVERNED_SECTIONS.join(' or ')}: ` +
        `keep that section as it is live, and have someone allowed to write ${live.location} itself (not incoming/) make the change`,
    };
  });
}

/** A section as it takes effect (defaults filled in), or as written when it does not validate. */
function settled(section: Section, data: unknown): string {
  const value = data !== null && typeof data === 'object' ? (data as Record<string, unknown>)[section] : undefined;
  const parsed = configSchema.shape[section].safeParse(value);
  return parsed.success ? canonicalJson(parsed.data) : `as written: ${canonicalJson(value ?? null)}`;
}

function topLevelKey(doc: Document, name: string): number | undefined {
  if (!isMap(doc.contents)) return undefined;
  for (const item of doc.contents.items) {
    if (isPair(item) && isScalar(item.key) && item.key.value === name) return item.key.range?.[0];
  }
  return undefined;
}
