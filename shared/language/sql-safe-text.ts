/**
 * The one rule for text that SQL literals can hold, shared by the language (which refuses such
 * text where it is written) and the compiler's quoting.
 */

/** With the `u` flag a surrogate pair is one code point, so only unpaired halves match. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Why a text cannot become a SQL string literal (see `stringLiteral` in compiler/sql-text.ts), or undefined when it
 * can. The definition and config schemas refuse such text where it is written, so a refresh never
 * meets it.
 */
export function sqlTextProblem(value: string): string | undefined {
  if (value.includes('\u0000')) return 'must not contain the NUL character';
  const lone = LONE_SURROGATE.exec(value)?.[0];
  if (lone !== undefined) return `must be valid Unicode, got a lone surrogate \\u${lone.charCodeAt(0).toString(16)} (it has no UTF-8 form)`;
  return undefined;
}
