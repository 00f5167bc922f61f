import type { EventFilter, PropertyOps } from './ast.ts';

/** Whether property operators compare with a value (every operator but `exists`). */
export const comparesValue = (ops: PropertyOps): boolean => Object.keys(ops).some((op) => op !== 'exists');

/** The properties an event filter's `where` compares with a value (every operator but `exists`), in order. */
export function comparedProperties(filter: EventFilter): string[] {
  return filter.where.filter((where) => comparesValue(where.ops)).map((where) => where.property);
}
