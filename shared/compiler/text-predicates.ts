import type { PropertyOps } from '../language/ast.ts';
import { stringLiteral } from './sql-text.ts';

/*
 * The string operators of issue 16 on a value's SPEC text, the same SQL for both engines: strpos,
 * starts_with, length and substr count Unicode code points in DuckDB and in Trino, and no LIKE
 * pattern is ever built, so `%` and `_` in an operand are plain characters.
 */

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';

/** ASCII letters to lower case, every other character as it is (lower() would fold non-ASCII differently per engine). */
const asciiLower = (text: string) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** The text's code points, as length() counts them in both engines. */
const codePoints = (text: string) => [...text].length;

/** Each string operator of `ops` on a text that is NULL when the value has none; every part is never NULL. */
export function textPredicates(text: string, ops: PropertyOps): string[] {
  const parts: string[] = [];
  if (ops.contains !== undefined) parts.push(`coalesce(strpos(${text}, ${stringLiteral(ops.contains)}) > 0, false)`);
  if (ops.starts_with !== undefined) parts.push(`coalesce(starts_with(${text}, ${stringLiteral(ops.starts_with)}), false)`);
  if (ops.ends_with !== undefined) {
    const n = codePoints(ops.ends_with);
    parts.push(
      `coalesce(length(${text}) >= ${n} AND substr(${text}, length(${text}) - ${n - 1}) = ${stringLiteral(ops.ends_with)}, false)`,
    );
  }
  if (ops.icontains !== undefined) {
    const folded = `translate(${text}, ${stringLiteral(UPPER)}, ${stringLiteral(LOWER)})`;
    parts.push(`coalesce(strpos(${folded}, ${stringLiteral(asciiLower(ops.icontains))}) > 0, false)`);
  }
  return parts;
}
