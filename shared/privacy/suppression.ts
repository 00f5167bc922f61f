import { idForms } from './person-hash.ts';
import type { PrivacyPorts } from './ports.ts';

/**
 * Reads an opt-out list: one person id a line; blank lines, lines starting with `#` and a
 * `person_id` header are skipped. Each id counts in both its forms (as written and normalized),
 * so `Ann@Example.com` also suppresses the member `ann@example.com`.
 */
export function parseSuppressionList(text: string): Set<string> {
  const ids = new Set<string>();
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed === 'person_id') continue;
    for (const form of idForms(trimmed)) ids.add(form);
  }
  return ids;
}

/** The configured suppression list; empty when the file does not exist. */
export async function loadSuppressionList(ports: PrivacyPorts): Promise<Set<string>> {
  const bytes = await ports.blobs.get(ports.settings.suppression_list);
  return bytes ? parseSuppressionList(Buffer.from(bytes).toString('utf8')) : new Set();
}
