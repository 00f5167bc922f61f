import { type Document, isAlias, isCollection, isPair, isScalar, LineCounter, type Node, parseDocument, visit } from 'yaml';
import type { DefinitionProblem, SourcePosition } from './errors.ts';

/**
 * How deeply mappings and lists may nest in a definition, config or fixture file. A rule nested
 * 20 conditions deep uses about 40 levels; far past this the parser, the schemas and the compiler
 * recurse towards the stack limit (about 1,000 levels), so the file is refused instead.
 */
export const MAX_YAML_NESTING = 500;

/**
 * A key a JavaScript record cannot hold as data: assigning it sets the object's prototype, so the
 * schemas would silently drop it (a `where: {__proto__: x}` condition would vanish).
 */
export const RESERVED_KEY = '__proto__';

/** A YAML file parsed to plain data, with the way from offsets back to places. */
export type YamlData =
  | {
      readonly ok: true;
      readonly doc: Document;
      readonly data: unknown;
      readonly position: (offset: number) => SourcePosition;
    }
  | { readonly ok: false; readonly problems: readonly DefinitionProblem[] };

/**
 * Parses YAML 1.2 with unique keys into plain data. Every way a file can be hostile or absurd is a
 * problem of that file at a line and column, never a throw: malformed YAML, duplicate keys,
 * nesting deeper than {@link MAX_YAML_NESTING}, aliases that expand too much (a "billion laughs"),
 * and the key `__proto__`.
 */
export function readYamlData(text: string, file: string): YamlData {
  const lineCounter = new LineCounter();
  const position = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, col };
  };
  let doc: Document;
  try {
    doc = parseDocument(text, { version: '1.2', uniqueKeys: true, prettyErrors: false, lineCounter });
  } catch (error) {
    if (error instanceof RangeError) return { ok: false, problems: [{ file, position: { line: 1, col: 1 }, message: tooDeep() }] };
    throw error;
  }
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((error) => ({ file, position: position(error.pos[0]), message: yamlMessage(error.code, error.message) })),
    };
  }
  const shape = shapeProblems(doc, file, position);
  if (shape.length > 0) return { ok: false, problems: shape };
  try {
    return { ok: true, doc, data: doc.toJS(), position };
  } catch (error) {
    if (error instanceof RangeError) return { ok: false, problems: [{ file, position: { line: 1, col: 1 }, message: tooDeep() }] };
    // The yaml library refuses aliases that would expand to a resource-exhausting size.
    if (error instanceof ReferenceError) {
      const alias = firstAlias(doc);
      return {
        ok: false,
        problems: [
          {
            file,
            position: alias ? position(alias) : { line: 1, col: 1 },
            message: 'aliases (*name) expand to too much data (a "billion laughs"): write the values out instead',
          },
        ],
      };
    }
    throw error;
  }
}

function tooDeep(): string {
  return `nested too deeply: mappings and lists may nest at most ${MAX_YAML_NESTING} levels`;
}

function yamlMessage(code: string, message: string): string {
  const first = message.split('\n')[0] ?? message;
  if (code === 'DUPLICATE_KEY')
    return `duplicate key: ${first.replace(/^Map keys must be unique.*$/, 'a key is given twice (keys must be unique)')}`;
  if (/call stack/i.test(first)) return tooDeep();
  return `malformed YAML: ${first}`;
}

/** Nesting beyond the limit and `__proto__` keys, found without recursion. */
function shapeProblems(doc: Document, file: string, position: (offset: number) => SourcePosition): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  const stack: { node: unknown; depth: number }[] = [{ node: doc.contents, depth: 1 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop() as { node: unknown; depth: number };
    if (!isCollection(node)) continue;
    if (depth > MAX_YAML_NESTING) {
      problems.push({ file, position: position(node.range?.[0] ?? 0), message: tooDeep() });
      break;
    }
    for (const item of node.items) {
      if (isPair(item)) {
        if (isScalar(item.key) && item.key.value === RESERVED_KEY) {
          problems.push({
            file,
            position: position(item.key.range?.[0] ?? 0),
            message: `the key "${RESERVED_KEY}" is not allowed: JavaScript reserves the name, so it would be silently dropped (a property of that name cannot be tested)`,
          });
        }
        stack.push({ node: item.value, depth: depth + 1 });
      } else {
        stack.push({ node: item, depth: depth + 1 });
      }
    }
  }
  return problems.sort((a, b) => (a.position?.line ?? 0) - (b.position?.line ?? 0) || (a.position?.col ?? 0) - (b.position?.col ?? 0));
}

function firstAlias(doc: Document): number | undefined {
  let offset: number | undefined;
  visit(doc, {
    Alias(_, node: Node) {
      if (isAlias(node) && node.range) offset = node.range[0];
      return visit.BREAK;
    },
  });
  return offset;
}
