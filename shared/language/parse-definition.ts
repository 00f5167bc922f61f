import { createHash } from 'node:crypto';
import { type ActionSet, NO_ACTIONS } from './actions.ts';
import type { CohortDefinition } from './ast.ts';
import { canonicalJson } from './canonical.ts';
import { mapLeaves } from './condition-leaves.ts';
import type { DefinitionProblem } from './errors.ts';
import { definitionSchema } from './schema.ts';
import { resolveActions } from './resolve-actions.ts';
import { readYamlFile } from './yaml-file.ts';

/** Result of reading one definition file. */
export type ParseResult =
  | { readonly ok: true; readonly definition: CohortDefinition }
  | { readonly ok: false; readonly problems: readonly DefinitionProblem[] };

/**
 * Reads one definition file's text: YAML 1.2 with unique keys, validated by the zod schemas.
 * Every problem carries the file and, where it comes from a place in the file, its line and column.
 * `action: <name>` filters are resolved against `actions` (see resolve-actions.ts).
 */
export function parseDefinition(text: string, file: string, actions: ActionSet = NO_ACTIONS): ParseResult {
  const read = readYamlFile(text, file, definitionSchema, 'a definition must be a YAML mapping of keys such as id, name, owner and rule', {
    emptyIsMapping: false,
  });
  if (!read.ok) return read;
  // Named actions are resolved before hashing, so the hash covers what each action means.
  const resolved = resolveActions(read.value.rule, actions, (path) => read.valuePositionOf(path) !== undefined);
  if (resolved.problems.length > 0) {
    return {
      ok: false,
      problems: resolved.problems.map((problem) => {
        const position = problem.atKey ? read.positionOf(problem.path) : read.valuePositionOf(problem.path);
        return { file, ...(position ? { position } : {}), message: problem.message };
      }),
    };
  }
  const value = { ...read.value, rule: resolved.rule };
  const hash = hashDefinition(value);
  // Where each cohort and list reference stands, so cross-file errors can point at it.
  const rule = mapLeaves(value.rule, (leaf, path) => {
    const key = leaf.kind === 'cohort' || leaf.kind === 'list' ? leaf.kind : undefined;
    const position = key ? read.valuePositionOf(['rule', ...path, key]) : undefined;
    return position ? { ...leaf, position } : leaf;
  });
  return { ok: true, definition: { ...value, rule, path: file, hash } };
}

/** sha256 of the canonical JSON of the validated definition: formatting and key order do not matter. */
function hashDefinition(definition: unknown): string {
  return createHash('sha256').update(canonicalJson(definition)).digest('hex');
}
