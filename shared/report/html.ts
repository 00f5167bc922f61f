/** Markup that is already escaped or trusted; the only thing `html` inserts unescaped. */
export class SafeHtml {
  constructor(readonly text: string) {}

  toString(): string {
    return this.text;
  }
}

/**
 * What a template may interpolate. Numbers are left out on purpose: they must go through
 * `formatNumber` so every number on a page has its thousands separators.
 */
export type HtmlValue = SafeHtml | string | null | undefined | false | readonly HtmlValue[];

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.text;
  if (value === null || value === undefined || value === false) return '';
  if (typeof value === 'string') return escapeHtml(value);
  return value.map(render).join('');
}

/** Template tag: every interpolated string is escaped, arrays are joined, `SafeHtml` is kept. */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** Marks trusted markup (our own CSS and scripts), never user text. */
export function trusted(text: string): SafeHtml {
  return new SafeHtml(text);
}

/**
 * JSON for a `<script type="application/json">` block. `<`, `>` and `&` become `\u` escapes so
 * user text such as `</script>` cannot end the block; the JSON still parses to the same value.
 */
export function jsonForScript(value: unknown): SafeHtml {
  const text = JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return new SafeHtml(text);
}

/** A script's source for an inline `<script>`; refuses code that would end the element early. */
export function inlineScript(code: string): SafeHtml {
  if (/<\/script|<!--/i.test(code)) throw new Error('inline script contains "</script" or "<!--" and would break out of its element');
  return new SafeHtml(code);
}
