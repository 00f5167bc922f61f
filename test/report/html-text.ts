/*
 * Small readers of the generated HTML for Node tests: the pages mark what tests look at with
 * data attributes (`data-cohort`, `data-field`), so plain regular expressions suffice.
 */

const ENTITIES: Record<string, string> = { '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&amp;': '&' };

const BLOCK = /<\/?(?:td|th|tr|li|ul|ol|dd|dt|dl|p|div|pre|h\d|table|caption|thead|tbody|br|section|article|nav)\b[^>]*>/gi;

/** Visible text of a fragment: block tags (and `.sub` lines) become spaces, inline tags vanish, entities decoded. */
export function textOf(fragment: string): string {
  return fragment
    .replace(BLOCK, ' ')
    .replace(/<span class="sub"[^>]*>/g, ' ')
    .replace(/<[^>]+>/g, '')
    .replace(/&(lt|gt|quot|#39|amp);/g, (entity) => ENTITIES[entity] ?? entity)
    .replace(/\s+/g, ' ')
    .trim();
}

/** The first element `<tag ... attribute="value" ...>...</tag>` (not nested in itself), as markup. */
export function element(page: string, tag: string, attribute: string, value: string): string {
  const match = new RegExp(`<${tag}\\b[^>]*\\b${attribute}="${value}"[^>]*>[\\s\\S]*?</${tag}>`).exec(page);
  if (!match) throw new Error(`no <${tag} ${attribute}="${value}"> in the page`);
  return match[0];
}

/** Visible text of the first element carrying `data-field="field"`. */
export function fieldText(fragment: string, field: string): string {
  const match = new RegExp(`<(\\w+)\\b[^>]*\\bdata-field="${field}"[^>]*>([\\s\\S]*?)</\\1>`).exec(fragment);
  if (!match) throw new Error(`no data-field="${field}" in the fragment`);
  return textOf(match[2] ?? '');
}

/** The JSON embedded in `<script type="application/json" id="...">`. */
export function embeddedJson(page: string, id: string): unknown {
  const match = new RegExp(`<script type="application/json" id="${id}">([\\s\\S]*?)</script>`).exec(page);
  if (!match) throw new Error(`no JSON block #${id}`);
  return JSON.parse(match[1] ?? '');
}
