import { z } from 'zod';
import {
  type Bounds,
  CADENCES,
  type Condition,
  type EventFilter,
  type Measure,
  type Periods,
  type PropertyFilter,
  type PropertyOps,
  TIERS,
  type Window,
} from './ast.ts';
import { sqlTextProblem } from './sql-safe-text.ts';
import { MAX_DURATION_MS, parseDuration } from './duration.ts';
import { alwaysLonger, isMonths, MAX_MONTHS, parseWindowDuration, WINDOW_UNITS, type WindowDuration } from './window-duration.ts';
import { holdoutNeeds, holdoutText } from './holdout-schema.ts';
import { shownValue as shown } from './errors.ts';

/**
 * The definition language of SPEC sections 3 and 4 as zod schemas. Parsing yields the typed
 * AST of ast.ts; `definitions/schema.json` is generated from these same schemas.
 */

export const COHORT_ID = /^[a-z][a-z0-9_]{2,62}$/;
/** SPEC section 4's property names, which may also start with `$` (PostHog's `$current_url`, issue 16). */
export const PROPERTY_NAME = /^\$?[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

const text = () => z.string({ error: (issue) => `must be text, got ${shown(issue.input)}` }).min(1, 'must not be empty');

/** Text that reaches SQL as a literal: refused here, at its line, when no literal can hold it. */
const sqlSafe = (value: string, ctx: z.RefinementCtx) => {
  const problem = sqlTextProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem, input: value });
};

const cohortId = z
  .string({ error: (issue) => `must be a cohort id, got ${shown(issue.input)}` })
  .regex(COHORT_ID, { error: (issue) => `must be snake_case matching ${COHORT_ID.source}, got ${shown(issue.input)}` })
  .meta({ id: 'CohortId', description: 'A cohort id: snake_case, 3 to 63 characters, starting with a letter.' });

const actionName = z
  .string({ error: (issue) => `must be an action name, got ${shown(issue.input)}` })
  .regex(COHORT_ID, { error: (issue) => `must be snake_case matching ${COHORT_ID.source}, got ${shown(issue.input)}` })
  .meta({ id: 'ActionName', description: 'A named action: the base name of a file in `<definitions>/actions/`.' });

/**
 * `event` and `source` beside `action`: the action names them, so a leaf may not. Accepted here and
 * refused by resolve-actions.ts at the key (a zod refusal would make the union blame `action`).
 */
const fromAction = z
  .unknown()
  .optional()
  .meta({ id: 'NotBesideAction', description: 'Not allowed beside action: the action names the events and sources.' });

const propertyName = z
  .string({ error: (issue) => `property name must be text, got ${shown(issue.input)}` })
  .regex(PROPERTY_NAME, {
    error: (issue) =>
      `property name must be a top-level key matching ${PROPERTY_NAME.source} (a dot is part of the key, not a path), got ${shown(issue.input)}`,
  })
  .meta({
    id: 'PropertyName',
    description: 'A top-level key of `properties`; a dot is part of the key, not a path; it may start with `$` (`$current_url`).',
  });

const number = z.number({ error: (issue) => `must be a number, got ${shown(issue.input)}` });

const scalar = z.union([z.string().superRefine(sqlSafe), z.number(), z.boolean()], {
  error: (issue) => `must be a string, number or boolean, got ${shown(issue.input)}`,
});

/** A string read by `parse`, whose message is the issue when it is not one; `expected` names what a non-string should be. */
const parsedString = <T extends object>(expected: string, parse: (text: string) => T | { readonly error: string }) =>
  z.string({ error: (issue) => `must be ${expected}, got ${shown(issue.input)}` }).transform((value, ctx): T => {
    const parsed = parse(value);
    if ('error' in parsed) {
      ctx.addIssue({ code: 'custom', message: parsed.error, input: value });
      return z.NEVER;
    }
    return parsed;
  });

/** A fixed duration (h, d, w): a sequence's `max_gap`. */
const duration = parsedString('a duration such as 30d, 12h or 2w', parseDuration).meta({
  id: 'Duration',
  description: 'A positive duration: an integer and a unit h, d or w (there are no months; write 30d), at most 100 years (36525d).',
});

/** A duration counted from T (window keys, velocity windows, periods, date operators): also calendar months. */
const windowDuration = parsedString('a duration such as 30d, 12h, 2w, 3months or 1y', parseWindowDuration).meta({
  id: 'WindowDuration',
  description: `A positive duration counted from the as-of instant (back, or forward for within_next): an integer and a unit (${WINDOW_UNITS}), at most 100 years. T minus n months is the same day n calendar months earlier in UTC, clamped to that month's last day (Mar 31 - 1month = Feb 28 or 29), time of day kept; T plus n months likewise.`,
});

const BOUND_KEYS = ['eq', 'gt', 'gte', 'lt', 'lte'] as const;

function boundsOf(value: z.ZodType<number>) {
  return {
    eq: value.optional(),
    gt: value.optional(),
    gte: value.optional(),
    lt: value.optional(),
    lte: value.optional(),
  };
}

const atLeastOneBound = (bounds: Record<string, unknown>) => BOUND_KEYS.some((key) => bounds[key] !== undefined);
const NEEDS_BOUND = 'needs at least one bound: eq, gt, gte, lt or lte';

const countValue = z
  .number({ error: (issue) => `must be a non-negative integer, got ${shown(issue.input)}` })
  .int({ error: (issue) => `must be a non-negative integer, got ${shown(issue.input)}` })
  .nonnegative({ error: (issue) => `must be a non-negative integer, got ${shown(issue.input)}` });

const countMeasure = z
  .union([countValue.transform((gte): Bounds => ({ gte })), z.strictObject(boundsOf(countValue)).refine(atLeastOneBound, NEEDS_BOUND)])
  .meta({ description: 'Number of matching events. `count: 5` means `{gte: 5}`.' });

const sumMeasure = z
  .strictObject({ of: propertyName.optional(), ...boundsOf(number) })
  .refine(atLeastOneBound, NEEDS_BOUND)
  .meta({ description: 'Sum of the numeric property `of` (or of the `value` column) over matching events.' });

const distinctMeasure = z
  .strictObject({ of: propertyName, ...boundsOf(number) })
  .refine(atLeastOneBound, NEEDS_BOUND)
  .meta({ description: 'Number of distinct non-null text values of property `of` over matching events.' });

/** A string operator's operand: non-empty text, compared with the value's text as it is (`%` and `_` are plain characters). */
const textOperand = z
  .string({ error: (issue) => `must be text (quote a number: "42"), got ${shown(issue.input)}` })
  .min(1, 'must not be empty')
  .superRefine(sqlSafe);

const operators = {
  eq: scalar.optional(),
  neq: scalar.optional(),
  in: z.array(scalar).min(1, 'must list at least one value').optional(),
  not_in: z.array(scalar).min(1, 'must list at least one value').optional(),
  gt: number.optional(),
  gte: number.optional(),
  lt: number.optional(),
  lte: number.optional(),
  exists: z.boolean({ error: (issue) => `must be true or false, got ${shown(issue.input)}` }).optional(),
  contains: textOperand.optional(),
  starts_with: textOperand.optional(),
  ends_with: textOperand.optional(),
  icontains: textOperand.optional().meta({ description: 'Contains the text, ASCII letters compared case-insensitively.' }),
  before: windowDuration.optional().meta({ description: 'The value is a date-time (the `ts` grammar) before T - D.' }),
  within: windowDuration.optional().meta({ description: 'The value is a date-time (the `ts` grammar) in [T - D, T).' }),
  within_next: windowDuration
    .optional()
    .meta({ description: 'The value is a date-time (the `ts` grammar) in [T, T + D) (T plus n months clamped like T minus n months).' }),
};
const OPERATOR_KEYS = Object.keys(operators) as (keyof typeof operators)[];
const atLeastOneOperator = (ops: Record<string, unknown>) => OPERATOR_KEYS.some((key) => ops[key] !== undefined);
const NEEDS_OPERATOR = `needs at least one property operator: ${OPERATOR_KEYS.join(', ')}`;

const propertyOps = z.strictObject(operators).refine(atLeastOneOperator, NEEDS_OPERATOR);

/** A `where` value: a scalar (equal to) or an object of operators. */
const propertyCondition = z
  // Operators first: an object that fails as operators reports the operator at fault, not "must be a string".
  .union([propertyOps, scalar.transform((eq): PropertyOps => ({ eq }))])
  .meta({ id: 'PropertyCondition', description: 'A scalar (equal to) or property operators, all of which must hold.' });

const where = z
  .record(propertyName, propertyCondition)
  .refine((entries) => Object.keys(entries).length > 0, 'where must name at least one property')
  .transform((entries): PropertyFilter[] => Object.entries(entries).map(([property, ops]) => ({ property, ops })));

const eventName = z
  .string({ error: (issue) => `event name must be text, got ${shown(issue.input)}` })
  .min(1, 'event name must not be empty')
  .superRefine(sqlSafe);

const eventNames = z
  .union([
    eventName,
    z
      .array(eventName.refine((name) => name !== '*', '"*" (any event) stands alone; it cannot be part of a list of event names'))
      .min(1, 'event list must not be empty'),
  ])
  .transform((names): readonly string[] | '*' => (names === '*' ? '*' : typeof names === 'string' ? [names] : names))
  .meta({ id: 'EventNames', description: 'An event_name, a list of names, or "*" for any event.' });

const sources = z
  .union([text().superRefine(sqlSafe), z.array(text().superRefine(sqlSafe)).min(1, 'source list must not be empty')])
  .transform((value) => (typeof value === 'string' ? [value] : value))
  .meta({ id: 'Sources', description: 'A source or a list of sources, matched exactly.' });

const between = z
  .tuple([windowDuration, windowDuration], { error: (issue) => `must be a list of two durations [D1, D2], got ${shown(issue.input)}` })
  .refine(([from, to]) => alwaysLonger(from, to), {
    error: (issue) => {
      const [from, to] = issue.input as [WindowDuration, WindowDuration];
      const mixed = isMonths(from) !== isMonths(to) ? ' at every as-of (n months count as 28n to 31n days)' : '';
      return `[D1, D2] needs D1 longer than D2${mixed}, got [${from.text}, ${to.text}]`;
    },
  });

const windowKeys = {
  within: windowDuration.optional(),
  before: windowDuration.optional(),
  between: between.optional(),
};

interface WindowInput {
  within?: WindowDuration;
  before?: WindowDuration;
  between?: [WindowDuration, WindowDuration];
}

function windowOf(input: WindowInput): Window | undefined {
  if (input.within) return { kind: 'within', duration: input.within };
  if (input.before) return { kind: 'before', duration: input.before };
  if (input.between) return { kind: 'between', from: input.between[0], to: input.between[1] };
  return undefined;
}

const oneWindow = (input: WindowInput) => [input.within, input.before, input.between].filter((w) => w !== undefined).length <= 1;
const ONE_WINDOW = 'takes at most one window key: within, before or between';

function filterOf(
  input: WindowInput & { event: readonly string[] | '*'; source?: readonly string[]; where?: PropertyFilter[] },
): EventFilter {
  const window = windowOf(input);
  return {
    events: input.event,
    ...(input.source ? { sources: input.source } : {}),
    where: input.where ?? [],
    ...(window ? { window } : {}),
  };
}

/** The event leaf's measure: count (default `{gte: 1}`), sum or distinct. */
function measureOf(leaf: { count?: Bounds; sum?: Bounds & { of?: string }; distinct?: Bounds & { of: string } }): Measure {
  if (leaf.sum) {
    const { of, ...bounds } = leaf.sum;
    return of === undefined ? { kind: 'sum', bounds } : { kind: 'sum', of, bounds };
  }
  if (leaf.distinct) {
    const { of, ...bounds } = leaf.distinct;
    return { kind: 'distinct', of, bounds };
  }
  return { kind: 'count', bounds: leaf.count ?? { gte: 1 } };
}

const measureKeys = {
  count: countMeasure.optional(),
  sum: sumMeasure.optional(),
  distinct: distinctMeasure.optional(),
};
const oneMeasure = (leaf: { count?: unknown; sum?: unknown; distinct?: unknown }) =>
  [leaf.count, leaf.sum, leaf.distinct].filter((m) => m !== undefined).length <= 1;
const ONE_MEASURE = 'takes at most one measure: count, sum or distinct';

/**
 * The keys of a filter written as a named action: `action` in place of `event` and `source`; a
 * `where` of its own is ANDed with the action's. parse-definition.ts resolves the name.
 */
const actionFilterKeys = {
  action: actionName,
  event: fromAction,
  source: fromAction,
  where: where.optional(),
};

/** A filter naming an action, before parse-definition.ts resolves it: no events yet. */
function actionFilterOf(input: WindowInput & { action: string; where?: PropertyFilter[] }): EventFilter {
  const window = windowOf(input);
  return { action: input.action, events: [], where: input.where ?? [], ...(window ? { window } : {}) };
}

/** The most periods a leaf may test (each is one count per person in the query). */
const MAX_PERIODS = 120;

const positiveCount = (max: number) =>
  z
    .number({ error: (issue) => `must be a positive integer, got ${shown(issue.input)}` })
    .int({ error: (issue) => `must be a positive integer, got ${shown(issue.input)}` })
    .min(1, { error: (issue) => `must be at least 1, got ${shown(issue.input)}` })
    .max(max, { error: (issue) => `must be at most ${max}, got ${shown(issue.input)}` });

/** Whether `count` periods of `every` stay within 100 years. */
const periodsFit = ({ every, count }: { every: WindowDuration; count: number }) =>
  isMonths(every) ? every.months * count <= MAX_MONTHS : every.ms * count <= MAX_DURATION_MS;

/** `periods: {every, count, at_least}` (issue 16): the leaf's count tested in each of `count` consecutive periods. */
const periodsSchema = z
  .strictObject({
    every: windowDuration,
    count: positiveCount(MAX_PERIODS),
    at_least: positiveCount(MAX_PERIODS),
  })
  .superRefine((periods, ctx) => {
    if (periods.at_least > periods.count) {
      ctx.addIssue({
        code: 'custom',
        path: ['at_least'],
        message: `must be at most count (${periods.count}), got ${periods.at_least}`,
        input: periods.at_least,
      });
    }
    if (!periodsFit(periods)) {
      ctx.addIssue({
        code: 'custom',
        path: ['count'],
        message: `${periods.count} periods of ${periods.every.text} reach back more than 100 years`,
        input: periods.count,
      });
    }
  })
  .meta({
    id: 'Periods',
    description:
      'In place of a window: period i (0 = newest) is [T - (i+1)*every, T - i*every); the leaf holds when at least `at_least` of the `count` periods each satisfy its count bounds (a period without events counts 0).',
  });

/** The keys of an event leaf beside its filter: a window or periods, and a measure. */
const leafKeys = { ...windowKeys, periods: periodsSchema.optional(), ...measureKeys };
type LeafKeys = WindowInput & { periods?: Periods; count?: Bounds; sum?: Bounds & { of?: string }; distinct?: Bounds & { of: string } };

/** `periods` stand in place of the window and test a count. */
function periodsRefine(leaf: LeafKeys, ctx: z.RefinementCtx) {
  if (leaf.periods === undefined) return;
  if (windowOf(leaf)) {
    ctx.addIssue({
      code: 'custom',
      path: ['periods'],
      message: 'stand in place of the window: leave out within, before and between',
      input: leaf,
    });
  }
  if (leaf.sum !== undefined || leaf.distinct !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['periods'],
      message: 'test a count: use count (or no measure), not sum or distinct',
      input: leaf,
    });
  }
}

/** An event leaf's condition over `filter`: periods of a count, or a measure over the window. */
function eventCondition(filter: EventFilter, leaf: LeafKeys): Condition {
  if (leaf.periods) return { kind: 'periods', filter, periods: leaf.periods, bounds: leaf.count ?? { gte: 1 } };
  return { kind: 'event', filter, measure: measureOf(leaf) };
}

const eventLeaf = z
  .strictObject({ event: eventNames, source: sources.optional(), where: where.optional(), ...leafKeys })
  .refine(oneWindow, ONE_WINDOW)
  .refine(oneMeasure, { message: ONE_MEASURE })
  .superRefine(periodsRefine)
  .transform((leaf): Condition => eventCondition(filterOf(leaf), leaf))
  .meta({ id: 'EventLeaf', description: 'Behaviour counted over a window: matching events and a measure (default count >= 1).' });

const actionEventLeaf = z
  .strictObject({ ...actionFilterKeys, ...leafKeys })
  .refine(oneWindow, ONE_WINDOW)
  .refine(oneMeasure, { message: ONE_MEASURE })
  .superRefine(periodsRefine)
  .transform((leaf): Condition => eventCondition(actionFilterOf(leaf), leaf))
  .meta({
    id: 'ActionLeaf',
    description:
      'An event leaf whose events are a named action (`<definitions>/actions/<name>.yaml`); its own `where` is ANDed; a window or periods, and a measure, as an event leaf.',
  });

const latestSource = z
  .strictObject({
    event: eventNames,
    property: propertyName,
    source: sources.optional(),
    where: where.optional(),
    ...windowKeys,
  })
  .refine(oneWindow, ONE_WINDOW);

const actionLatestSource = z.strictObject({ ...actionFilterKeys, property: propertyName, ...windowKeys }).refine(oneWindow, ONE_WINDOW);

/** Where `latest` and `earliest` read a property: an event filter, or a named action. */
const valueSource = z.union([actionLatestSource, latestSource]);
type ValueSource = z.output<typeof valueSource>;

/** A `latest` or `earliest` leaf: the property's value on its last (first) matching event, tested with the operators. */
const valueCondition = (kind: 'latest' | 'earliest', source: ValueSource, ops: PropertyOps): Condition => ({
  kind,
  filter: 'action' in source ? actionFilterOf(source) : filterOf(source),
  property: source.property,
  ops,
});

const latestLeaf = z
  .strictObject({ latest: valueSource, ...operators })
  .refine(atLeastOneOperator, `${NEEDS_OPERATOR} beside latest`)
  .transform(({ latest, ...ops }) => valueCondition('latest', latest, ops))
  .meta({ id: 'Latest', description: 'The last known non-null value of a property, tested with property operators.' });

const earliestLeaf = z
  .strictObject({ earliest: valueSource, ...operators })
  .refine(atLeastOneOperator, `${NEEDS_OPERATOR} beside earliest`)
  .transform(({ earliest, ...ops }) => valueCondition('earliest', earliest, ops))
  .meta({
    id: 'Earliest',
    description: 'The first known non-null value of a property (least ts, ties by the least event_id), tested with property operators.',
  });

const velocityLeaf = z
  .strictObject({
    velocity: z.union([
      z.strictObject({ ...actionFilterKeys, window: windowDuration }),
      z.strictObject({
        event: eventNames,
        window: windowDuration,
        source: sources.optional(),
        where: where.optional(),
      }),
    ]),
    ...boundsOf(number),
  })
  .refine(atLeastOneBound, `${NEEDS_BOUND} beside velocity`)
  .transform(
    ({ velocity, ...bounds }): Condition => ({
      kind: 'velocity',
      filter: 'action' in velocity ? actionFilterOf(velocity) : filterOf(velocity),
      window: velocity.window,
      bounds: bounds as Bounds,
    }),
  )
  .meta({ id: 'Velocity', description: 'Events in the last window divided by events in the window before it.' });

/**
 * One step of a sequence: the event filter keys of an event leaf (or `action` and a `where` of its
 * own, ANDed), without a window or a measure.
 */
const sequenceStep = z
  .strictObject({ action: actionName.optional(), event: eventNames.optional(), source: sources.optional(), where: where.optional() })
  .superRefine((step, ctx) => {
    if (step.event === undefined && step.action === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['event'],
        message: 'is missing: each step names its event (a list of events, or "*") or an action',
        input: undefined,
      });
    }
  })
  // `event` or `source` beside `action` is refused by resolve-actions.ts, at the key.
  .transform(
    (step): EventFilter =>
      step.action !== undefined ? actionFilterOf({ ...step, action: step.action }) : filterOf({ ...step, event: step.event ?? '*' }),
  )
  .meta({
    id: 'SequenceStep',
    description: 'An event filter (event, source, where), or a named action and a where ANDed, that one event of the sequence matches.',
  });

const sequenceLeaf = z
  .strictObject({
    sequence: z
      .array(sequenceStep, { error: (issue) => `must be a list of steps, got ${shown(issue.input)}` })
      .min(2, 'needs at least two steps (one step is an event leaf: write {event: ...} instead)'),
    max_gap: duration
      .optional()
      .meta({ description: 'Each step at most this long after the one before (a gap of exactly max_gap holds).' }),
    ...windowKeys,
  })
  .refine(oneWindow, ONE_WINDOW)
  .transform(({ sequence, max_gap, ...keys }): Condition => {
    const window = windowOf(keys);
    return { kind: 'sequence', steps: sequence, ...(max_gap ? { maxGap: max_gap } : {}), ...(window ? { window } : {}) };
  })
  .meta({
    id: 'Sequence',
    description:
      'Events matching the steps in order, at strictly increasing ts, each within max_gap of the one before, all inside the window.',
  });

const cohortRef = z
  .strictObject({ cohort: cohortId })
  .transform(({ cohort }): Condition => ({ kind: 'cohort', id: cohort }))
  .meta({ id: 'CohortReference', description: 'Members of another cohort at the same as-of time.' });

const listRef = z
  .strictObject({
    list: z
      .string({ error: (issue) => `must be a list name, got ${shown(issue.input)}` })
      .regex(COHORT_ID, { error: (issue) => `must be a list name matching ${COHORT_ID.source}, got ${shown(issue.input)}` })
      .meta({ id: 'ListName', description: 'An uploaded list: the base name of `lists/<name>.csv` beside the definitions.' }),
  })
  .transform(({ list }): Condition => ({ kind: 'list', name: list }))
  .meta({
    id: 'ListReference',
    description: 'People of the population whose person_id is an entry of the uploaded list (a static cohort).',
  });

/** One condition: exactly one of the forms of SPEC section 4. */
export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z
    .union([allOf, anyOf, notOf, cohortRef, listRef, actionEventLeaf, eventLeaf, latestLeaf, earliestLeaf, velocityLeaf, sequenceLeaf], {
      error: (issue) =>
        `must be one condition (all, any, not, cohort, list, action, event, latest, earliest, velocity or sequence), got ${shown(issue.input)}`,
    })
    .meta({
      id: 'Condition',
      description: 'Exactly one of: all, any, not, cohort, list, an action leaf, an event leaf, latest, earliest, velocity or sequence.',
    }),
);

const conditionList = () =>
  z.array(conditionSchema, { error: (issue) => `must be a list of conditions, got ${shown(issue.input)}` }).min(1, {
    message: 'needs at least one condition (an empty list is an error)',
  });

const allOf = z.strictObject({ all: conditionList() }).transform(({ all }): Condition => ({ kind: 'all', items: all }));
const anyOf = z.strictObject({ any: conditionList() }).transform(({ any }): Condition => ({ kind: 'any', items: any }));
const notOf = z.strictObject({ not: conditionSchema }).transform(({ not }): Condition => ({ kind: 'not', item: not }));

/**
 * An event filter over the trailing window `within` before the as-of instant, as the project
 * config's metrics write it: the keys of an event leaf, without a measure. `event` may be left out
 * when `anyEvent` is set (any event name).
 */
export function trailingFilterSchema(options: { readonly anyEvent: boolean }) {
  return z
    .strictObject({
      event: eventNames.optional(),
      source: sources.optional(),
      where: where.optional(),
      within: windowDuration,
    })
    .superRefine((input, ctx) => {
      if (!options.anyEvent && input.event === undefined) {
        ctx.addIssue({ code: 'custom', path: ['event'], message: 'is missing: name the event (or a list of events)', input: undefined });
      }
    })
    .transform((input): EventFilter => filterOf({ ...input, event: input.event ?? '*' }));
}

/**
 * A named action's file, `<definitions>/actions/<name>.yaml`: an event filter (the keys of an event
 * leaf without window or measure) with an id equal to the file's base name, an owner and a purpose.
 */
export const actionFileSchema = z
  .strictObject({
    id: actionName,
    owner: text().meta({ description: 'Team or e-mail that owns the action.' }),
    purpose: text().meta({ description: 'What the action stands for and who relies on it.' }),
    event: eventNames,
    source: sources.optional(),
    where: where.optional(),
  })
  .transform(({ id, owner, purpose, ...filter }) => ({ id, owner, purpose, filter: filterOf(filter) }));

/** Warn and fail levels of a KPI shift check; fail is off unless set. */
const shiftLevels = z
  .strictObject({
    warn: number.nonnegative('must not be negative').optional(),
    fail: number.nonnegative('must not be negative').optional(),
  })
  .refine((levels) => levels.warn === undefined || levels.fail === undefined || levels.warn <= levels.fail, {
    message: 'warn must not be above fail',
  });

/** A definition's `quality.kpis:` block: how far the KPIs of a version may move before it warns or fails. */
const kpiQualitySchema = z
  .strictObject({
    min_size: countValue
      .optional()
      .meta({ description: 'Below this many members (now or in the version compared with) KPI shifts are not judged (default 30).' }),
    activation_change: shiftLevels
      .optional()
      .meta({ description: 'Activation share against the previous published version, in percentage points (default warn 10).' }),
    value_change: shiftLevels
      .optional()
      .meta({ description: 'Value sum and mean against the previous published version, in percent (default warn 50).' }),
    history_z: shiftLevels
      .optional()
      .meta({ description: 'Robust z-score of each KPI against the history of versions (default warn 3.5).' }),
  })
  .meta({ description: 'Thresholds of the KPI shift checks; each check warns at `warn` and holds the version at `fail`.' });

/** A definition's `quality:` block. */
export const qualitySchema = z.strictObject({
  min_size: countValue.optional(),
  max_size: countValue.optional(),
  max_change_pct: number.nonnegative('must not be negative').optional(),
  max_churn_pct: number.nonnegative('must not be negative').optional(),
  max_history_z: number.positive('must be positive').optional(),
  kpis: kpiQualitySchema.optional(),
});

/** A definition's `program:` block; `holdout` and `salt` split members for an experiment. */
export const programSchema = z
  .strictObject({
    hypothesis: text().optional(),
    experiment: text().optional(),
    outcome_metric: text().optional(),
    holdout: holdoutText.optional(),
    salt: text().optional().meta({
      description: 'Mixed into sha256(salt + person_id), which assigns each member to treatment or holdout; change it only to reshuffle.',
    }),
  })
  .superRefine(holdoutNeeds);

const deprecation = z.strictObject({
  reason: text(),
  replaced_by: cohortId.optional(),
});

const oneOf = <T extends readonly string[]>(values: T) =>
  z.enum(values as unknown as [T[number], ...T[number][]], {
    error: (issue) => `must be one of ${values.join(', ')}, got ${shown(issue.input)}`,
  });

/** A whole definition file (SPEC section 3). */
export const definitionSchema = z.strictObject({
  id: cohortId,
  name: text(),
  owner: text().meta({ description: 'Team or e-mail that owns the cohort.' }),
  purpose: text().meta({ description: 'Why it exists and who acts on it.' }),
  tier: oneOf(TIERS).default('tactical'),
  cadence: oneOf(CADENCES),
  rule: conditionSchema,
  quality: qualitySchema.optional(),
  limitations: text().optional(),
  program: programSchema.optional(),
  change_reason: text().optional(),
  deprecated: deprecation.optional(),
});

/** What `definitionSchema` yields for a file. */
export type ParsedDefinition = z.output<typeof definitionSchema>;
