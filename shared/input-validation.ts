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
