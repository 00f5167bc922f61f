import type { z } from 'zod';

/**
 * Type helpers for the schemas that cross JSON boundaries (Step Functions, records): the type a
 * schema describes, and a compile-time check that a schema and a type describe the same fields.
 */

/** A type read-only all the way down: the domain's plain-JSON types are, zod's outputs are not. */
export type DeepReadonly<T> = T extends readonly (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** The type a wire schema describes: what it yields, read-only all the way down. */
export type Wire<S extends z.ZodType> = DeepReadonly<z.output<S>>;

/**
 * `true` when A and B are the same type, optional fields included (a field added on either side
 * as optional makes them differ, where mutual assignability would not see it); else `false`.
 */
export type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Whether a wire schema describes exactly the type T: the same fields and optionality, read-only aside. */
export type Describes<S extends z.ZodType, T> = Equals<Wire<S>, DeepReadonly<T>>;
