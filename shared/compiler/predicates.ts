import type { Bounds, PropertyOps, Scalar } from '../language/ast.ts';
import { type AsOfInstant, datePredicates } from './date-predicates.ts';
import { doubleLiteral, stringLiteral } from './sql-text.ts';
import { textPredicates } from './text-predicates.ts';

/** The three faces of a property value that operators look at. */
export interface PropertyValue {
  /** SPEC text; NULL when missing, null, an object or an array. */
  readonly text: string;
  /** The double of a numeric text; NULL otherwise. */
  readonly number: string;
  /** Present and not null (objects and arrays included). */
  readonly present: string;
}

/** The text of a YAML scalar operand, compared with a value's text. */
function operandText(value: string | boolean): string {
  return typeof value === 'boolean' ? (value ? 'true' : 'false') : value;
}

/** `eq` as SPEC section 4 defines it; never NULL. */
function equals(value: PropertyValue, operand: Scalar): string {
  if (typeof operand === 'number') return `coalesce(${value.number} = ${doubleLiteral(operand)}, false)`;
  return `coalesce(${value.text} = ${stringLiteral(operandText(operand))}, false)`;
}

/**
 * Every operator of `ops` holding for `value`, as one boolean SQL expression that is never NULL.
 * The date operators compare with `asOf` (required when `ops` has one).
 */
export function propertyPredicate(value: PropertyValue, ops: PropertyOps, asOf?: AsOfInstant): string {
  const parts: string[] = [];
  if (ops.eq !== undefined) parts.push(equals(value, ops.eq));
  if (ops.neq !== undefined) parts.push(`(${value.text} IS NOT NULL AND NOT ${equals(value, ops.neq)})`);
  if (ops.in !== undefined) parts.push(`(${value.text} IS NOT NULL AND (${ops.in.map((v) => equals(value, v)).join(' OR ')}))`);
  if (ops.not_in !== undefined) {
    parts.push(`(${value.text} IS NOT NULL AND NOT (${ops.not_in.map((v) => equals(value, v)).join(' OR ')}))`);
  }
  for (const [op, sql] of [
    ['gt', '>'],
    ['gte', '>='],
    ['lt', '<'],
    ['lte', '<='],
  ] as const) {
    const bound = ops[op];
    if (bound !== undefined) parts.push(`coalesce(${value.number} ${sql} ${doubleLiteral(bound)}, false)`);
  }
  if (ops.exists !== undefined) parts.push(ops.exists ? value.present : `NOT ${value.present}`);
  parts.push(...textPredicates(value.text, ops), ...datePredicates(value.text, ops, asOf));
  return conjunction(parts);
}

/** Every bound holding for a numeric expression that is never NULL. */
export function boundsPredicate(value: string, bounds: Bounds): string {
  const parts: string[] = [];
  for (const [op, sql] of [
    ['eq', '='],
    ['gt', '>'],
    ['gte', '>='],
    ['lt', '<'],
    ['lte', '<='],
  ] as const) {
    const bound = bounds[op];
    if (bound !== undefined) parts.push(`${value} ${sql} ${doubleLiteral(bound)}`);
  }
  return conjunction(parts);
}

/** Whether the bounds hold for +infinity (a velocity whose previous window is empty). */
export function boundsHoldForInfinity(bounds: Bounds): boolean {
  return bounds.eq === undefined && bounds.lt === undefined && bounds.lte === undefined;
}

/** `a AND b AND ...`, or TRUE for nothing. */
export function conjunction(parts: readonly string[]): string {
  if (parts.length === 0) return 'TRUE';
  if (parts.length === 1) return parts[0] as string;
  return `(${parts.join(' AND ')})`;
}

/** `(a OR b OR ...)`, or FALSE for nothing. */
export function disjunction(parts: readonly string[]): string {
  if (parts.length === 0) return 'FALSE';
  if (parts.length === 1) return parts[0] as string;
  return `(${parts.join(' OR ')})`;
}
