import { z } from 'zod';
import { actionFileSchema, definitionSchema } from './schema.ts';

const atMostOneOf = (keys: readonly string[]) => ({
  not: { anyOf: keys.flatMap((a, i) => keys.slice(i + 1).map((b) => ({ required: [a, b] }))) },
});

const EVENT_LEAF_RULES = {
  allOf: [atMostOneOf(['within', 'before', 'between']), atMostOneOf(['count', 'sum', 'distinct'])],
};
const CROSS_KEY_RULES: Record<string, Record<string, unknown>> = {
  EventLeaf: EVENT_LEAF_RULES,
  ActionLeaf: EVENT_LEAF_RULES,
  NotBesideAction: { not: {} },
};

/**
 * The JSON Schema of a definition file, generated from the zod schemas (never written by hand)
 * so editors complete and check definitions as analysts type (`# yaml-language-server: $schema=`).
 */
export function definitionJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(definitionSchema, {
    io: 'input',
    target: 'draft-07',
    unrepresentable: 'any',
    cycles: 'ref',
    reused: 'inline',
    // Cross-key rules live in zod refinements, which JSON Schema cannot see; say them again here.
    override: ({ zodSchema, jsonSchema }) => {
      const extra = CROSS_KEY_RULES[String(z.globalRegistry.get(zodSchema)?.id)];
      if (extra) Object.assign(jsonSchema, extra);
    },
  });
  return {
    ...schema,
    $id: 'https://cohort-refresh.dev/schema/definition.json',
    title: 'cohort-refresh cohort definition',
    description: 'One cohort per file; the base name of the file equals its id (SPEC sections 3 and 4).',
  };
}

/** The schema file's text, as written to `definitions/schema.json`. */
export function definitionJsonSchemaText(): string {
  return `${JSON.stringify(definitionJsonSchema(), null, 2)}\n`;
}

/** The JSON Schema of a named action's file (`<definitions>/actions/<name>.yaml`), from the same zod schemas. */
export function actionJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(actionFileSchema, { io: 'input', target: 'draft-07', unrepresentable: 'any', reused: 'inline' });
  return {
    ...schema,
    $id: 'https://cohort-refresh.dev/schema/action.json',
    title: 'cohort-refresh named action',
    description: 'One action per file in actions/; the base name of the file equals its id. Cohorts use it as `action: <id>`.',
  };
}

/** The action schema file's text, as written to `definitions/actions/schema.json`. */
export function actionJsonSchemaText(): string {
  return `${JSON.stringify(actionJsonSchema(), null, 2)}\n`;
}
