import { createHash } from 'node:crypto';
import type { CohortDefinition } from './ast.ts';
import { canonicalJson } from './canonical.ts';
import { mapLeaves } from './condition-leaves.ts';
import type { DefinitionProblem } from './errors.ts';
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
  // Where each cohort reference stands, so cross-file errors can point at it.
  const rule = mapLeaves(value.rule, (leaf, path) => {
    const position = leaf.kind === 'cohort' ? read.valuePositionOf(['rule', ...path, 'cohort']) : undefined;
    return position ? { ...leaf, position } : leaf;
  });
  return { ok: true, definition: { ...value, rule, path: file, hash } };
}

/** sha256 of the canonical JSON of the validated definition: formatting and key order do not matter. */
function hashDefinition(definition: unknown): string {
  return createHash('sha256').update(canonicalJson(definition)).digest('hex');
}
