import { isMap, isPair, isScalar, visit } from 'yaml';
import type { CohortDefinition, Condition } from '../language/ast.ts';
import { comparedProperties, comparesValue } from '../language/compared-properties.ts';
import { leaves } from '../language/condition-leaves.ts';
import { leafFilters } from '../language/leaf-filters.ts';
import type { DefinitionProblem, SourcePosition } from '../language/errors.ts';
import { readYamlData } from '../language/yaml-document.ts';

/**
 * The rule that keeps personal property values out of the engine's outputs: a definition may test
 * a personal property only with `exists` (and measure it with `sum`/`distinct`, which yield numbers).
 * Any compared value (`eq`, `in`, `gt`, ...) would be copied into the lineage query of every
 * snapshot, the report and plans, so it is refused like any other invalid definition.
 */
export function personalPropertyProblems(
  definitions: readonly CohortDefinition[],
  personal: readonly string[],
  /** The definition file's text, when at hand, to point at the line and column. */
  textOf: (path: string) => string | undefined = () => undefined,
): DefinitionProblem[] {
  if (personal.length === 0) return [];
  const isPersonal = new Set(personal);
  const problems: DefinitionProblem[] = [];
  for (const definition of definitions) {
    const found = new Set<string>();
    walk(definition.rule, (property) => {
      if (isPersonal.has(property)) found.add(property);
    });
    for (const property of found) {
      const text = textOf(definition.path);
      const position = text === undefined ? undefined : propertyPosition(text, property);
      problems.push({
        file: definition.path,
        ...(position ? { position } : {}),
        message:
          `"${property}" is personal data (privacy.personal_properties): a rule may only test it with exists: true/false, ` +
          'never compare it with a value (values would be copied into lineage, plans and the report)',
      });
    }
  }
  return problems;
}

/** Calls `found` with every property a condition compares with a value. */
function walk(condition: Condition, found: (property: string) => void): void {
  for (const leaf of leaves(condition)) {
    for (const filter of leafFilters(leaf)) for (const property of comparedProperties(filter)) found(property);
    if ((leaf.kind === 'latest' || leaf.kind === 'earliest') && comparesValue(leaf.ops)) found(leaf.property);
  }
}

/** Where a property is compared in a definition: a key under `where`, or the value of `property:`. */
function propertyPosition(text: string, property: string): SourcePosition | undefined {
  const read = readYamlData(text, 'definition');
  if (!read.ok) return undefined;
  let offset: number | undefined;
  visit(read.doc, {
    Pair(_, pair) {
      if (offset !== undefined || !isScalar(pair.key)) return;
      if (pair.key.value === 'where' && isMap(pair.value)) {
        const key = pair.value.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === property)?.key;
        if (isScalar(key) && key.range) offset = key.range[0];
      } else if (pair.key.value === 'property' && isScalar(pair.value) && pair.value.value === property && pair.value.range) {
        offset = pair.value.range[0];
      }
    },
  });
  return offset === undefined ? undefined : read.position(offset);
}
