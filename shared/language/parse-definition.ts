import { createHash } from 'node:crypto';
import { type Document, isMap, isNode, isPair, isScalar, type Node } from 'yaml';
import type { z } from 'zod';
import type { CohortDefinition, Condition } from './ast.ts';
import { canonicalJson } from './canonical.ts';
import type { DefinitionProblem, SourcePosition } from './errors.ts';
import { definitionSchema } from './schema.ts';
import { readYamlData } from './yaml-document.ts';
import { flattenIssues, withoutEchoes } from './zod-issues.ts';

type Issue = z.core.$ZodIssue;
type PathKey = PropertyKey;

/** Result of reading one definition file. */
export type ParseResult =
  | { readonly ok: true; readonly definition: CohortDefinition }
  | { readonly ok: false; readonly problems: readonly DefinitionProblem[] };

/**
 * Reads one definition file's text: YAML 1.2 with unique keys, validated by the zod schemas.
 * Every problem carries the file and, where it comes from a place in the file, its line and column.
 */
export function parseDefinition(text: string, file: string): ParseResult {
  const read = readYamlData(text, file);
  if (!read.ok) return read;
  const { doc, data, position } = read;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return {
      ok: false,
      problems: [
        { file, position: { line: 1, col: 1 }, message: 'a definition must be a YAML mapping of keys such as id, name, owner and rule' },
      ],
    };
  }
  const parsed = definitionSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    return {
      ok: false,
      problems: withoutEchoes(flattenIssues(parsed.error.issues)).map((issue) => ({
        file,
        position: issuePosition(doc, issue, position),
        message: issueMessage(issue),
      })),
    };
  }
  const { data: value } = parsed;
  const hash = hashDefinition(value);
  const rule = attachPositions(value.rule, doc, ['rule'], position);
  return { ok: true, definition: { ...value, rule, path: file, hash } };
}

/** sha256 of the canonical JSON of the validated definition: formatting and key order do not matter. */
function hashDefinition(definition: unknown): string {
  return createHash('sha256').update(canonicalJson(definition)).digest('hex');
}

function dotted(path: readonly PathKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}

function issueMessage(issue: Issue): string {
  const where = dotted(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((key) => `"${key}"`).join(', ');
    return `${where ? `${where}: ` : ''}unknown key ${keys} (a typo is never ignored)`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) return `${where} is required`;
  if (issue.code === 'invalid_key') return `${where}: ${issue.issues[0]?.message ?? issue.message}`;
  return where ? `${where} ${issue.message}` : issue.message;
}

function issuePosition(doc: Document, issue: Issue, position: (offset: number) => SourcePosition): SourcePosition | undefined {
  const path = issue.path;
  if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) {
    const key = findKeyNode(doc, path, issue.keys[0]);
    if (key) return position(key.range?.[0] ?? 0);
  }
  if (issue.code === 'invalid_key' && path.length > 0) {
    const key = findKeyNode(doc, path.slice(0, -1), path[path.length - 1] as PathKey);
    if (key) return position(key.range?.[0] ?? 0);
  }
  // The deepest node on the path that exists: the value itself, or the mapping missing a key.
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as unknown[], true);
    if (isNode(node) && node.range) return position(node.range[0]);
  }
  return doc.contents?.range ? position(doc.contents.range[0]) : undefined;
}

function findKeyNode(doc: Document, mapPath: readonly PathKey[], key: PathKey): Node | undefined {
  const map = mapPath.length === 0 ? doc.contents : doc.getIn(mapPath as unknown[], true);
  if (!isMap(map)) return undefined;
  for (const item of map.items) {
    if (isPair(item) && isScalar(item.key) && String(item.key.value) === String(key)) return item.key;
  }
  return undefined;
}

/** Records where each cohort reference stands, so cross-file errors can point at it. */
function attachPositions(
  condition: Condition,
  doc: Document,
  path: readonly PathKey[],
  position: (offset: number) => SourcePosition,
): Condition {
  switch (condition.kind) {
    case 'all':
    case 'any':
      return { ...condition, items: condition.items.map((item, i) => attachPositions(item, doc, [...path, condition.kind, i], position)) };
    case 'not':
      return { ...condition, item: attachPositions(condition.item, doc, [...path, 'not'], position) };
    case 'cohort': {
      const node = doc.getIn([...path, 'cohort'] as unknown[], true);
      return isNode(node) && node.range ? { ...condition, position: position(node.range[0]) } : condition;
    }
    default:
      return condition;
  }
}
