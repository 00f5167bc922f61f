import { z } from 'zod';
import type { Describes } from '../wire-types.ts';
import type { EventFilter, ProgramBlock, PropertyOps, QualitySettings, Window } from './ast.ts';
import type { Duration } from './duration.ts';
import type { MonthsDuration, WindowDuration } from './window-duration.ts';
import type { programSchema, qualitySchema } from './schema.ts';

/**
 * The AST of ast.ts as it crosses a JSON boundary (the plan carries the config's metrics as
 * event filters): the parsed shape, not the YAML one schema.ts reads. schema.ts turns `within:
 * 30d` into a `Duration` inside a `Window`; these schemas check that shape when it comes back.
 * An assertion below holds them equal to the AST's types, so a field added on either
 * side fails tsc.
 */

/** A parsed duration (`Duration` of duration.ts): the text as written and its length. */
export const durationWireSchema = z.object({ text: z.string().min(1), ms: z.number().int().positive() });

/** A parsed calendar duration (`MonthsDuration` of window-duration.ts): the text as written and its months. */
export const monthsWireSchema = z.object({ text: z.string().min(1), months: z.number().int().positive() });

/** A duration of a window (`WindowDuration`): fixed or calendar months. */
export const windowDurationWireSchema = z.union([durationWireSchema.strict(), monthsWireSchema.strict()]);

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** Property operators (`PropertyOps`). */
export const propertyOpsWireSchema = z.object({
  eq: scalar.optional(),
  neq: scalar.optional(),
  in: z.array(scalar).optional(),
  not_in: z.array(scalar).optional(),
  gt: z.number().optional(),
  gte: z.number().optional(),
  lt: z.number().optional(),
  lte: z.number().optional(),
  exists: z.boolean().optional(),
  contains: z.string().optional(),
  starts_with: z.string().optional(),
  ends_with: z.string().optional(),
  icontains: z.string().optional(),
  before: windowDurationWireSchema.optional(),
  within: windowDurationWireSchema.optional(),
  within_next: windowDurationWireSchema.optional(),
});

/** Which events a window admits (`Window`). */
export const windowWireSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('within'), duration: windowDurationWireSchema }),
  z.object({ kind: z.literal('before'), duration: windowDurationWireSchema }),
  z.object({ kind: z.literal('between'), from: windowDurationWireSchema, to: windowDurationWireSchema }),
]);

/** A compiled event filter (`EventFilter`). */
export const eventFilterWireSchema = z.object({
  action: z.string().min(1).optional(),
  events: z.union([z.literal('*'), z.array(z.string().min(1)).min(1)]),
  sources: z.array(z.string().min(1)).optional(),
  where: z.array(z.object({ property: z.string().min(1), ops: propertyOpsWireSchema })),
  window: windowWireSchema.optional(),
});

// The schemas describe the AST exactly (tsc fails here when a field is added on either side). A
// plan carries `quality:` and `program:` through the language's own schemas, held equal too.
const exact: [
  Describes<typeof durationWireSchema, Duration>,
  Describes<typeof monthsWireSchema, MonthsDuration>,
  Describes<typeof windowDurationWireSchema, WindowDuration>,
  Describes<typeof propertyOpsWireSchema, PropertyOps>,
  Describes<typeof windowWireSchema, Window>,
  Describes<typeof eventFilterWireSchema, EventFilter>,
  Describes<typeof qualitySchema, QualitySettings>,
  Describes<typeof programSchema, ProgramBlock>,
] = [true, true, true, true, true, true, true, true];
void exact;
