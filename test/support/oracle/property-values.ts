import { type JsonValue, JsonNumber } from './json-text.ts';

/**
 * Property values and their operators, as SPEC section 4 ("Property operators") defines them,
 * written from the SPEC alone (not from shared/compiler/).
 */

/** An operand written in a definition (YAML 1.2: a string, a number or a boolean). */
export type Operand = string | number | boolean;

/** The operators a property may carry (SPEC section 4, the operator table); all must hold. */
export interface PropertyTest {
  readonly eq?: Operand;
  readonly neq?: Operand;
  readonly in?: readonly Operand[];
  readonly not_in?: readonly Operand[];
  readonly gt?: number;
  readonly gte?: number;
  readonly lt?: number;
  readonly lte?: number;
  readonly exists?: boolean;
}

/** A property as read: absent (`undefined`) or a JSON value. */
export type PropertyValue = JsonValue | undefined;

const INTEGER_AS_WRITTEN = /^-?(?:0|[1-9][0-9]*)$/;
/** SPEC: "A value is numeric when its text matches the JSON number grammar". */
const NUMERIC_TEXT = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

const isNested = (value: PropertyValue): boolean => Array.isArray(value) || value instanceof Map;

/** SPEC: "present and non-null" (a nested object or array is present). */
export const isPresent = (value: PropertyValue): boolean => value !== undefined && value !== null;

/**
 * The text of a value (SPEC: "The text of a value"): a string is itself, booleans `true`/`false`, a
 * number without fraction or exponent its digits as written, any other number the shortest text
 * that reads back to it with `.0` when integral. Null, absent and nested values have none.
 * (Numbers outside [1e-4, 1e15) have no defined text in the SPEC; this renders them anyway, and the
 * draws and cases avoid relying on them.)
 */
export function textOf(value: PropertyValue): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return String(value);
  if (value instanceof JsonNumber) {
    if (INTEGER_AS_WRITTEN.test(value.written)) return value.written;
    const double = value.double;
    const shortest = Object.is(double, -0) ? '-0' : String(double);
    return Number.isInteger(double) && !/[eE]/.test(shortest) ? `${shortest}.0` : shortest;
  }
  return undefined;
}

/** The value as a double when its text is numeric (SPEC: "is numeric"; `"12"` is, `" 5"` is not). */
export function numericOf(value: PropertyValue): number | undefined {
  const text = textOf(value);
  return text !== undefined && NUMERIC_TEXT.test(text) ? Number(text) : undefined;
}

/** SPEC operator table, "scalar, or eq: v": text equality for a string or boolean v, numeric equality for a number. */
export function equals(value: PropertyValue, operand: Operand): boolean {
  if (typeof operand === 'number') return numericOf(value) === operand;
  const text = textOf(value);
  return text !== undefined && text === String(operand);
}

/** Whether every operator of `test` holds for `value` (SPEC section 4, the operator table). */
export function holds(value: PropertyValue, test: PropertyTest): boolean {
  const scalar = isPresent(value) && !isNested(value);
  const numeric = numericOf(value);
  const checks: boolean[] = [];
  if (test.eq !== undefined) checks.push(equals(value, test.eq));
  if (test.neq !== undefined) checks.push(scalar && !equals(value, test.neq));
  if (test.in !== undefined) checks.push(scalar && test.in.some((operand) => equals(value, operand)));
  if (test.not_in !== undefined) checks.push(scalar && !test.not_in.some((operand) => equals(value, operand)));
  if (test.gt !== undefined) checks.push(numeric !== undefined && numeric > test.gt);
  if (test.gte !== undefined) checks.push(numeric !== undefined && numeric >= test.gte);
  if (test.lt !== undefined) checks.push(numeric !== undefined && numeric < test.lt);
  if (test.lte !== undefined) checks.push(numeric !== undefined && numeric <= test.lte);
  if (test.exists !== undefined) checks.push(isPresent(value) === test.exists);
  return checks.every(Boolean);
}
