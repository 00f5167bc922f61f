/**
 * The only places where SQL text is made from values: every literal and identifier in compiled
 * SQL goes through these functions. The same quoting is valid in DuckDB and in Athena (Trino).
 */

import { sqlTextProblem } from '../language/sql-safe-text.ts';

/** Thrown when a value cannot be written into SQL safely. */
export class UnsafeSqlValueError extends Error {
  override readonly name = 'UnsafeSqlValueError';
}

/**
 * A SQL string literal. Single quotes are doubled; nothing else is special in standard SQL
 * literals (backslashes, `%`, `_`, newlines and unicode stand for themselves, and no LIKE is
 * ever built from user text). NUL cannot be stored in either engine's strings. A lone UTF-16
 * surrogate (YAML allows `"\uD800"`) has no UTF-8 form: the query text would carry U+FFFD
 * instead and match other text, so it is refused too.
 */
export function stringLiteral(value: string): string {
  const problem = sqlTextProblem(value);
  if (problem) throw new UnsafeSqlValueError(`text values ${problem}`);
  return `'${value.replaceAll("'", "''")}'`;
}

/** A DOUBLE literal in exponent form (`4.5E0`), which both engines read as a double. */
export function doubleLiteral(value: number): string {
  if (!Number.isFinite(value)) throw new UnsafeSqlValueError(`not a finite number: ${value}`);
  const [mantissa, exponent] = value.toExponential().split('e');
  return `${mantissa}E${Number(exponent)}`;
}

/** An integer literal for counts. */
export function integerLiteral(value: number): string {
  if (!Number.isSafeInteger(value)) throw new UnsafeSqlValueError(`not a safe integer: ${value}`);
  return String(value);
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,127}$/;

/** A quoted identifier; only lower-case snake_case names (already validated ids, generated aliases). */
export function identifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new UnsafeSqlValueError(`not a safe SQL identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}
