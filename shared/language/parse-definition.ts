import { createHash } from 'node:crypto';
import type { CohortDefinition, Condition } from './ast.ts';
import { canonicalJson } from './canonical.ts';
import type { DefinitionProblem, SourcePosition } from './errors.ts';
import { definitionSchema } from './schema.ts';
import { readYamlFile } from './yaml-file.ts';

/** Result of reading one definition file. */
export type ParseResult =
  | { readonly ok: true; readonly definition: CohortDefinition }
  | { readonly ok: false; readonly problems: readonly DefinitionProblem[] };

/**
 * Reads one definition file's text: YAML 1.2 with unique keys, validated by the zod schemas.
 * Every problem carries the file and, where it comes from a place in the file, its line and column.
 */
export function parseDefinition(text: string, file: string): ParseResult {
  const read = readYamlFile(text, file, definitionSchema, 'a definition must be a YAML mapping of keys such as id, name, owner and rule', {
    emptyIsMapping: false,
  });
  if (!read.ok) return read;
  const { value } = read;
  const hash = hashDefinition(value);
  const rule = attachPositions(value.rule, ['rule'], read.valuePositionOf);
  return { ok: true, definition: { ...value, rule, path: file, hash } };
}

/** sha256 of the canonical JSON of the validated definition: formatting and key order do not matter. */
function hashDefinition(definition: unknown): string {
  return createHash('sha256').update(canonicalJson(definition)).digest('hex');
}

/** Records where each cohort reference stands, so cross-file errors can point at it. */
function attachPositions(
  condition: Condition,
  path: readonly PropertyKey[],
  positionOf: (path: readonly PropertyKey[]) => SourcePosition | undefined,
): Condition {
  switch (condition.kind) {
    case 'all':
    case 'any':
      return { ...condition, items: condition.items.map((item, i) => attachPositions(item, [...path, condition.kind, i], positionOf)) };
    case 'not':
      return { ...condition, item: attachPositions(condition.item, [...path, 'not'], positionOf) };
    case 'cohort': {
      const position = positionOf([...path, 'cohort']);
      return position ? { ...condition, position } : condition;
    }
    default:
      return condition;
  }
}
