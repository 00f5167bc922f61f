import type { z } from 'zod';

type Schema = z.core.$ZodType;
type Def = z.core.$ZodTypeDef & Record<string, unknown>;

const def = (schema: Schema) => schema._zod.def as Def;

/** The schemas a value may have to satisfy: wrappers, pipes, lazies and unions opened up. */
function forms(schema: Schema, seen = new Set<Schema>()): Schema[] {
  if (seen.has(schema)) return [];
  seen.add(schema);
  const d = def(schema);
  switch (d.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
    case 'success':
      return forms(d.innerType as Schema, seen);
    case 'lazy':
      return forms((d.getter as () => Schema)(), seen);
    case 'pipe':
      return forms(d.in as Schema, seen);
    case 'union':
      return (d.options as Schema[]).flatMap((option) => forms(option, seen));
    case 'intersection':
      return [...forms(d.left as Schema, seen), ...forms(d.right as Schema, seen)];
    default:
      return [schema];
  }
}

/** The schemas of the value at `key` of a value of `schema`'s forms. */
function child(schema: Schema, key: PropertyKey): Schema[] {
  return forms(schema).flatMap((form) => {
    const d = def(form);
    if (d.type === 'object' && typeof key === 'string') {
      const field = (d.shape as Record<string, Schema>)[key];
      return field ? [field] : [];
    }
    if (d.type === 'array' && typeof key === 'number') return [d.element as Schema];
    if (d.type === 'record') return [d.valueType as Schema];
    if (d.type === 'tuple' && typeof key === 'number') return (d.items as Schema[])[key] ? [(d.items as Schema[])[key] as Schema] : [];
    return [];
  });
}

/**
 * The keys `schema` allows in the mapping at `path` (a zod issue's path), for naming the key an
 * unknown one is a typo of. Where a union allows several mappings there, the ones holding every key
 * of `present` (the mapping's known keys) are meant; all of them when none holds all.
 */
export function allowedKeys(schema: Schema, path: readonly PropertyKey[], present: readonly string[]): string[] {
  const schemas = path.reduce<Schema[]>((at, key) => at.flatMap((s) => child(s, key)), [schema]);
  const shapes = schemas
    .flatMap((s) => forms(s))
    .filter((form) => def(form).type === 'object')
    .map((form) => Object.keys(def(form).shape as Record<string, Schema>));
  const meant = shapes.filter((keys) => present.every((key) => keys.includes(key)));
  return [...new Set((meant.length > 0 ? meant : shapes).flat())].filter((key) => !present.includes(key));
}
