import type { z } from 'zod';
import { issueLines } from './language/zod-issues.ts';

/**
 * Input validation at the edges: a Lambda step's or the local runner's input, a Slack forwarder's
 * record. Every problem is named, one `path: message` line each.
 */

/** A step's input does not have the expected shape: a wiring bug, never retried. */
export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';

  constructor(
    /** The step whose input was rejected. */
    readonly step: string,
    /** One line per problem, `path: message`. */
    readonly problems: readonly string[],
  ) {
    super(`invalid input for ${step}: ${problems.join('; ')}`);
  }
}

/** Validates a step's input; a mismatch is an {@link InvalidEventError} naming every problem. */
export function parseEvent<S extends z.ZodType>(step: string, schema: S, event: unknown): z.output<S> {
  const result = schema.safeParse(event);
  if (result.success) return result.data;
  throw new InvalidEventError(step, issueLines(result.error, '(input)'));
}

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
