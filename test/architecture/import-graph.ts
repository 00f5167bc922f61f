import { readdir, readFile } from 'node:fs/promises';
import { posix } from 'node:path';

/** Source files by repository-relative path (`shared/ports.ts`) to their text. */
export type SourceFiles = ReadonlyMap<string, string>;

/** One import arrow between two source files of the repository. */
export interface ImportEdge {
  readonly from: string;
  readonly to: string;
}

/** One ring of the house: the path prefixes that belong to it. A folder prefix ends with `/`. */
export interface Ring {
  readonly name: string;
  readonly paths: readonly string[];
}

/** Rooms of one ring that never import each other (the cloud and the local adapters, the entry points). */
export type SeparateRooms = readonly string[];

/** An import the rules forbid, with the reason a reader acts on. */
export interface ImportProblem {
  readonly kind: 'cycle' | 'layering' | 'separate' | 'unplaced' | 'unresolved';
  readonly message: string;
}

/** A known and reasoned exception to the layering: one arrow, never a whole folder. */
export interface LayeringException extends ImportEdge {
  readonly reason: string;
}

const SOURCE_EXTENSIONS = ['.ts', '.mts', '.mjs'];

// Comments go first so an example import in TSDoc is not read as code. Line comments are only
// taken at the start of a line: a `//` inside a string (a URL) must stay.
const BLOCK_COMMENT = /\/\*[\s\S]*?\*\//g;
const LINE_COMMENT = /^\s*\/\/.*$/gm;
// `import x from`, `import type { A, B } from`, `export * from`, `export { a } from`, across lines.
const FROM_CLAUSE = /(?:^|[\s;}])(?:import|export)\s[^;'"`]*?\sfrom\s*['"]([^'"]+)['"]/g;
const SIDE_EFFECT = /(?:^|[\s;])import\s*['"]([^'"]+)['"]/g;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/**
 * The module specifiers a source text imports: static imports and re-exports (type-only
 * included), side-effect imports and dynamic `import('...')` with a literal specifier.
 * TypeScript 7 ships no compiler API to ask, and these three forms are all the tree uses, so a
 * reader over the import statements is enough; `unresolved` problems catch a form it misreads.
 */
export function importSpecifiers(text: string): string[] {
  const code = text.replace(BLOCK_COMMENT, '').replace(LINE_COMMENT, '');
  const found: string[] = [];
  for (const pattern of [FROM_CLAUSE, SIDE_EFFECT, DYNAMIC]) {
    for (const match of code.matchAll(pattern)) found.push(match[1]!);
  }
  return found;
}

/** The repository file a specifier names, or undefined for a package (`zod`, `node:fs`). */
export function resolveSpecifier(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return undefined;
  return posix.join(posix.dirname(from), specifier);
}

/** Every arrow between repository files, and the specifiers that name no file of the map. */
export function importEdges(files: SourceFiles): { edges: ImportEdge[]; unresolved: ImportProblem[] } {
  const edges: ImportEdge[] = [];
  const unresolved: ImportProblem[] = [];
  for (const [from, text] of files) {
    for (const specifier of new Set(importSpecifiers(text))) {
      const to = resolveSpecifier(from, specifier);
      if (to === undefined) continue;
      if (files.has(to)) edges.push({ from, to });
      else unresolved.push({ kind: 'unresolved', message: `${from} imports '${specifier}', which is no source file` });
    }
  }
  return { edges, unresolved };
}

/**
 * Every import cycle, one per strongly connected component (Tarjan), each reported as one
 * concrete loop `a -> b -> ... -> a` through the component's files.
 */
export function importCycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const to of next.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    const selfLoop = (next.get(node) ?? []).includes(node);
    if (component.length > 1 || selfLoop) components.push(component);
  };
  for (const node of [...next.keys()].sort()) if (!index.has(node)) visit(node);
  return components.map((component) => loopThrough(new Set(component), next));
}

/** One loop through a strongly connected component: breadth-first from its first file back to it. */
function loopThrough(component: ReadonlySet<string>, next: ReadonlyMap<string, string[]>): string[] {
  const start = [...component].sort()[0]!;
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const to of next.get(node) ?? []) {
      if (!component.has(to)) continue;
      if (to === start) {
        const loop = [node];
        while (loop[0] !== start) loop.unshift(cameFrom.get(loop[0]!)!);
        return [...loop, start];
      }
      if (!cameFrom.has(to)) {
        cameFrom.set(to, node);
        queue.push(to);
      }
    }
  }
  return [start, start];
}

/** The index of the ring a file belongs to (longest matching path), or undefined if none. */
export function ringOf(rings: readonly Ring[], file: string): number | undefined {
  let best: { ring: number; length: number } | undefined;
  rings.forEach((ring, at) => {
    for (const path of ring.paths) {
      const matches = path.endsWith('/') ? file.startsWith(path) : file === path;
      if (matches && (best === undefined || path.length > best.length)) best = { ring: at, length: path.length };
    }
  });
  return best?.ring;
}

/**
 * Every problem of a file map: files no ring places, imports that name no file, imports
 * into a higher ring than the importer's (rings are listed from the ground up; the same ring
 * or a lower one is allowed), imports between rooms kept apart, and import cycles.
 */
export function importProblems(
  files: SourceFiles,
  rings: readonly Ring[],
  separate: readonly SeparateRooms[] = [],
  exceptions: readonly LayeringException[] = [],
): ImportProblem[] {
  const { edges, unresolved } = importEdges(files);
  const problems: ImportProblem[] = [...unresolved];
  for (const file of [...files.keys()].sort()) {
    if (ringOf(rings, file) === undefined) problems.push({ kind: 'unplaced', message: `${file} is in no ring` });
  }
  for (const { from, to } of edges) {
    const allowed = exceptions.some((exception) => exception.from === from && exception.to === to);
    const roomOf = (group: SeparateRooms, file: string) => group.find((room) => file.startsWith(room));
    const apart = separate.find((group) => roomOf(group, from) !== undefined && roomOf(group, to) !== undefined);
    if (apart && roomOf(apart, from) !== roomOf(apart, to) && !allowed) {
      problems.push({ kind: 'separate', message: `${from} imports ${to}: ${apart.join(', ')} never import each other` });
    }
    const fromRing = ringOf(rings, from);
    const toRing = ringOf(rings, to);
    if (fromRing === undefined || toRing === undefined || toRing <= fromRing) continue;
    if (allowed) continue;
    problems.push({
      kind: 'layering',
      message: `${from} (${rings[fromRing]!.name}) imports ${to} (${rings[toRing]!.name}), a higher ring`,
    });
  }
  for (const loop of importCycles(edges)) problems.push({ kind: 'cycle', message: `import cycle: ${loop.join(' -> ')}` });
  return problems;
}

/** The source files under the given folders of a repository, by repository-relative path. */
export async function readSources(root: string, folders: readonly string[]): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const folder of folders) {
    const entries = await readdir(posix.join(root, folder), { recursive: true, withFileTypes: true });
    for (const entry of entries) {
      if (!entry.isFile() || !SOURCE_EXTENSIONS.some((extension) => entry.name.endsWith(extension))) continue;
      if (entry.name.endsWith('.d.ts')) continue;
      const path = posix.relative(root, posix.join(entry.parentPath, entry.name));
      files.set(path, await readFile(posix.join(root, path), 'utf8'));
    }
  }
  return files;
}
