import { type Document, isMap, isNode, isPair, isScalar, type Node } from 'yaml';
import type { z } from 'zod';
import type { DefinitionProblem, SourcePosition } from './errors.ts';
import { nearestName } from './nearest-name.ts';
import { allowedKeys } from './schema-keys.ts';
import { readYamlData } from './yaml-document.ts';
import { flattenIssues, withoutEchoes } from './zod-issues.ts';

type Issue = z.core.$ZodIssue;

/**
 * `params` of a custom zod issue that stands at the key its path names (say, a property under
 * `where`), rather than at that key's value.
 */
export const AT_KEY = { at: 'key' } as const;

/** A YAML file read and validated by a zod schema, with a way back from paths to places. */
export type YamlFileResult<T> =
  | {
      readonly ok: true;
      readonly value: T;
      /** Where a path stands: the key that names it, or the deepest node of it that exists. */
      readonly positionOf: (path: readonly PropertyKey[]) => SourcePosition | undefined;
      /** Where the value at a path stands; undefined when the file has no node there. */
      readonly valuePositionOf: (path: readonly PropertyKey[]) => SourcePosition | undefined;
    }
  | { readonly ok: false; readonly problems: readonly DefinitionProblem[] };

/**
 * Reads a YAML 1.2 file with unique keys and validates it with a schema; every problem carries the
 * file and, where it comes from a place in the file, its line and column. A union's issues name
 * the branch the writer meant (`flattenIssues`). An empty file is `{}`, unless `emptyIsMapping` is
 * false. `shapeMessage` is the error for a file that is not a mapping.
 */
export function readYamlFile<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  shapeMessage: string,
  options: { readonly emptyIsMapping?: boolean } = {},
): YamlFileResult<z.output<S>> {
  const read = readYamlData(text, file);
  if (!read.ok) return read;
  const { doc, position } = read;
  const data: unknown = options.emptyIsMapping === false ? read.data : (read.data ?? {});
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    return { ok: false, problems: [{ file, position: { line: 1, col: 1 }, message: shapeMessage }] };
  const parsed = schema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    return {
      ok: false,
      problems: typoHints(withoutEchoes(flattenIssues(parsed.error.issues))).map(({ issue, meant }) => ({
        file,
        position: issuePosition(doc, issue, position),
        message: meant === undefined ? issueMessage(issue, optionalKeyHints(schema, data, issue)) : typoMessage(issue, meant),
      })),
    };
  }
  const positionOf = (path: readonly PropertyKey[]): SourcePosition | undefined => {
    const key = path.length > 0 ? keyNode(doc, path.slice(0, -1), String(path[path.length - 1])) : undefined;
    return key?.range ? position(key.range[0]) : deepestPosition(doc, path, position);
  };
  const valuePositionOf = (path: readonly PropertyKey[]): SourcePosition | undefined => {
    const node = doc.getIn(path as unknown[], true);
    return isNode(node) && node.range ? position(node.range[0]) : undefined;
  };
  return { ok: true, value: parsed.data, positionOf, valuePositionOf };
}

function dotted(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}

/** A missing key: as missing when its schema is a union (`event`, `rule`) as any other. */
const isMissing = (issue: Issue) => (issue.code === 'invalid_type' || issue.code === 'invalid_union') && issue.input === undefined;

/**
 * The issues, each unknown key one or two edits from a required key missing beside it (`cadance`
 * where `cadence` is missing) paired with that key, whose own "is required" issue then goes: a
 * typo is one problem, with the fix in it.
 */
function typoHints(issues: readonly Issue[]): { issue: Issue; meant?: string }[] {
  // Missing, whatever the key's schema: a type, a union, an enum (`cadence`: "must be one of ..., got nothing").
  const absent = (other: Issue) => isMissing(other) || (other.code === 'invalid_value' && other.input === undefined);
  const missingAt = (issue: Issue) =>
    issues.filter(
      (other) => absent(other) && other.path.length === issue.path.length + 1 && issue.path.every((key, i) => other.path[i] === key),
    );
  const paired = new Map<Issue, { meant: string; missing: Issue }>();
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys' || issue.keys.length !== 1) continue;
    const missing = missingAt(issue).filter((other) => ![...paired.values()].some((p) => p.missing === other));
    const meant = nearestName(
      issue.keys[0] as string,
      missing.map((other) => String(other.path[other.path.length - 1])),
    );
    const pair = missing.find((other) => String(other.path[other.path.length - 1]) === meant);
    if (meant !== undefined && pair !== undefined) paired.set(issue, { meant, missing: pair });
  }
  const dropped = new Set([...paired.values()].map((p) => p.missing));
  return issues.filter((issue) => !dropped.has(issue)).map((issue) => ({ issue, meant: paired.get(issue)?.meant }));
}

function typoMessage(issue: Issue, meant: string): string {
  const where = dotted(issue.path);
  const key = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  return `${where ? `${where}: ` : ''}unknown key "${key}": did you mean "${meant}"? (${meant} is required)`;
}

/**
 * For an unknown key, the allowed key it is one or two edits from, if any (`quailty`: `quality`),
 * whether that key is required or not: zod's issue names the unknown keys, not the allowed ones.
 */
function optionalKeyHints(schema: z.ZodType, data: unknown, issue: Issue): ReadonlyMap<string, string> {
  if (issue.code !== 'unrecognized_keys') return new Map();
  const mapping = issue.path.reduce<unknown>(
    (at, key) => (at !== null && typeof at === 'object' ? (at as Record<PropertyKey, unknown>)[key] : undefined),
    data,
  );
  const present = mapping !== null && typeof mapping === 'object' ? Object.keys(mapping).filter((key) => !issue.keys.includes(key)) : [];
  const allowed = allowedKeys(schema, issue.path, present);
  const hints = new Map<string, string>();
  for (const key of issue.keys) {
    const near = nearestName(key, allowed);
    if (near !== undefined) hints.set(key, near);
  }
  return hints;
}

function issueMessage(issue: Issue, hints: ReadonlyMap<string, string> = new Map()): string {
  const where = dotted(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const [only] = issue.keys;
    if (issue.keys.length === 1 && only !== undefined && hints.has(only))
      return `${where ? `${where}: ` : ''}unknown key "${only}": did you mean "${hints.get(only)}"?`;
    const named = issue.keys.map((key) => (hints.has(key) ? `"${key}" (did you mean "${hints.get(key)}"?)` : `"${key}"`));
    return `${where ? `${where}: ` : ''}unknown key ${named.join(', ')} (a typo is never ignored)`;
  }
  if (isMissing(issue)) return `${where} is required`;
  if (issue.code === 'invalid_key') return `${where}: ${issue.issues[0]?.message ?? issue.message}`;
  return where ? `${where} ${issue.message}` : issue.message;
}

/** Where an issue stands: the unknown or bad key itself, or the deepest node of its path that exists. */
function issuePosition(doc: Document, issue: Issue, position: (offset: number) => SourcePosition): SourcePosition | undefined {
  if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) {
    const key = keyNode(doc, issue.path, issue.keys[0]);
    if (key?.range) return position(key.range[0]);
  }
  if ((issue.code === 'invalid_key' || (issue.code === 'custom' && issue.params?.at === AT_KEY.at)) && issue.path.length > 0) {
    const key = keyNode(doc, issue.path.slice(0, -1), String(issue.path[issue.path.length - 1]));
    if (key?.range) return position(key.range[0]);
  }
  return deepestPosition(doc, issue.path, position);
}

function deepestPosition(
  doc: Document,
  path: readonly PropertyKey[],
  position: (offset: number) => SourcePosition,
): SourcePosition | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth) as unknown[], true);
    if (isNode(node) && node.range) return position(node.range[0]);
  }
  return undefined;
}

function keyNode(doc: Document, mapPath: readonly PropertyKey[], key: string): Node | undefined {
  const map = mapPath.length === 0 ? doc.contents : doc.getIn(mapPath as unknown[], true);
  if (!isMap(map)) return undefined;
  for (const item of map.items) {
    if (isPair(item) && isScalar(item.key) && String(item.key.value) === key) return item.key;
  }
  return undefined;
}
