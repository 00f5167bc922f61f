import type { Bounds, Condition, EventFilter, Measure, PropertyOps, Scalar, Window } from '../language/ast.ts';

/*
 * Renders a validated rule back as compact YAML in the shape analysts write (SPEC section 4),
 * so a reader sees the rule the engine actually evaluates, defaults made explicit
 * (an event leaf without a measure shows `count: {gte: 1}`).
 */

const PLAIN = /^[A-Za-z_][A-Za-z0-9_.\-/@]*$/;
const RESERVED = /^(true|false|null|yes|no|on|off|~)$/i;

function scalar(value: Scalar): string {
  if (typeof value !== 'string') return String(value);
  return PLAIN.test(value) && !RESERVED.test(value) ? value : JSON.stringify(value);
}

function names(values: readonly string[]): string {
  return values.length === 1 ? scalar(values[0] as string) : `[${values.map(scalar).join(', ')}]`;
}

function flow(entries: readonly (readonly [string, string])[]): string {
  return `{${entries.map(([k, v]) => `${k}: ${v}`).join(', ')}}`;
}

const BOUND_KEYS = ['eq', 'gt', 'gte', 'lt', 'lte'] as const;

function boundEntries(bounds: Bounds): [string, string][] {
  return BOUND_KEYS.filter((k) => bounds[k] !== undefined).map((k) => [k, String(bounds[k])]);
}

function opEntries(ops: PropertyOps): [string, string][] {
  const entries: [string, string][] = [];
  for (const [key, value] of Object.entries(ops) as [keyof PropertyOps, PropertyOps[keyof PropertyOps]][]) {
    if (value === undefined) continue;
    // A date operator's duration shows as written (`30d`).
    if (typeof value === 'object' && 'text' in value) entries.push([key, value.text]);
    else entries.push([key, Array.isArray(value) ? `[${value.map(scalar).join(', ')}]` : scalar(value as Scalar)]);
  }
  return entries;
}

/** `scalar` for a lone `eq` (how it was most likely written), else a flow map of operators. */
function opsValue(ops: PropertyOps): string {
  const entries = opEntries(ops);
  const only = entries[0];
  if (entries.length === 1 && only && only[0] === 'eq') return only[1];
  return flow(entries);
}

function windowLine(window: Window): string {
  if (window.kind === 'between') return `between: [${window.from.text}, ${window.to.text}]`;
  return `${window.kind}: ${window.duration.text}`;
}

function filterLines(filter: EventFilter): string[] {
  if (filter.action !== undefined) {
    // The action's name, and what it resolved to (the leaf's own `where` included) beside it.
    const { action, window, ...resolved } = filter;
    return [`action: ${scalar(action)}  # ${filterText(resolved)}`, ...(window ? [windowLine(window)] : [])];
  }
  const lines = [`event: ${filter.events === '*' ? '"*"' : names(filter.events)}`];
  if (filter.sources && filter.sources.length > 0) lines.push(`source: ${names(filter.sources)}`);
  if (filter.where.length > 0) {
    lines.push('where:', ...filter.where.map((w) => `  ${scalar(w.property)}: ${opsValue(w.ops)}`));
  }
  if (filter.window) lines.push(windowLine(filter.window));
  return lines;
}

/** An event filter on one line, as a flow map: `{event: feature_used, source: product, within: 14d}`. */
export function filterText(filter: EventFilter): string {
  const entries = filterLines(filter);
  const where = filter.where.map((w) => `${scalar(w.property)}: ${opsValue(w.ops)}`);
  const flat = entries.filter((line) => !line.startsWith('where:') && !line.startsWith('  '));
  if (where.length > 0) flat.splice(filter.sources && filter.sources.length > 0 ? 2 : 1, 0, `where: {${where.join(', ')}}`);
  return `{${flat.join(', ')}}`;
}

function measureLine(measure: Measure): string {
  const bounds = boundEntries(measure.bounds);
  if (measure.kind === 'count') return `count: ${flow(bounds)}`;
  const of: [string, string][] = measure.of === undefined ? [] : [['of', scalar(measure.of)]];
  return `${measure.kind}: ${flow([...of, ...bounds])}`;
}

const indent = (lines: readonly string[], by = '  ') => lines.map((l) => by + l);

function listItem(lines: readonly string[]): string[] {
  const [first, ...rest] = lines;
  return [`- ${first ?? ''}`, ...indent(rest)];
}

function conditionLines(condition: Condition): string[] {
  switch (condition.kind) {
    case 'all':
    case 'any':
      return [`${condition.kind}:`, ...indent(condition.items.flatMap((item) => listItem(conditionLines(item))))];
    case 'not': {
      const inner = conditionLines(condition.item);
      const only = inner[0];
      return inner.length === 1 && only ? [`not: {${only}}`] : ['not:', ...indent(inner)];
    }
    case 'cohort':
      return [`cohort: ${condition.id}`];
    case 'list':
      return [`list: ${condition.name}`];
    case 'event':
      return [...filterLines(condition.filter), measureLine(condition.measure)];
    case 'latest':
    case 'earliest':
      return [
        `${condition.kind}:`,
        ...indent([...filterLines(condition.filter), `property: ${scalar(condition.property)}`]),
        ...opEntries(condition.ops).map(([k, v]) => `${k}: ${v}`),
      ];
    case 'velocity':
      return [
        'velocity:',
        ...indent([...filterLines(condition.filter), `window: ${condition.window.text}`]),
        ...boundEntries(condition.bounds).map(([k, v]) => `${k}: ${v}`),
      ];
    case 'sequence':
      return [
        'sequence:',
        // A step written as an action shows it as a leaf does: its name, what it resolved to as a comment.
        ...indent(condition.steps.flatMap((step) => (step.action !== undefined ? listItem(filterLines(step)) : [`- ${filterText(step)}`]))),
        ...(condition.maxGap ? [`max_gap: ${condition.maxGap.text}`] : []),
        ...(condition.window ? [windowLine(condition.window)] : []),
      ];
    case 'periods': {
      const { every, count, at_least } = condition.periods;
      return [
        ...filterLines(condition.filter),
        `periods: ${flow([
          ['every', every.text],
          ['count', String(count)],
          ['at_least', String(at_least)],
        ])}`,
        `count: ${flow(boundEntries(condition.bounds))}`,
      ];
    }
  }
}

/** A rule as indented YAML text, one condition key a line. */
export function ruleText(rule: Condition): string {
  return conditionLines(rule).join('\n');
}
