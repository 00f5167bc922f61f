import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { CohortDefinition } from './ast.ts';
import { type DefinitionProblem, shownValue, unreadableFile } from './errors.ts';
import { cohortGraph, dependencyOrder, type ReferenceCycle, references } from './graph.ts';
import { parseDefinition } from './parse-definition.ts';

/** Every definition of a folder, validated together. */
export interface Catalog {
  /** Valid definitions, in dependency order (a cohort after every cohort it references). */
  readonly definitions: readonly CohortDefinition[];
  /** Problems; the catalog may only be used when this is empty. */
  readonly problems: readonly DefinitionProblem[];
  /** The YAML of each valid definition, by id, as read (the catalog of accepted versions keeps it). */
  readonly texts?: ReadonlyMap<string, string>;
}

const DEFINITION_FILE = /\.ya?ml$/;

/** Reads and validates every `*.yaml`/`*.yml` file of a folder (SPEC section 3). */
export async function loadCatalog(folder: string): Promise<Catalog> {
  let names: string[];
  try {
    names = (await readdir(folder)).filter((name) => DEFINITION_FILE.test(name)).sort();
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : (error as Error).message;
    return { definitions: [], problems: [{ file: folder, message: `cannot read the definitions folder: ${reason}` }] };
  }
  const read = await Promise.all(names.map((name) => readDefinitionFile(join(folder, name))));
  const unreadable = read.filter((file): file is DefinitionProblem => 'message' in file);
  const catalog = buildCatalog(read.filter((file): file is { path: string; text: string } => 'text' in file));
  if (unreadable.length === 0) return catalog;
  return { definitions: [], problems: [...unreadable, ...catalog.problems] };
}

/** A definition file's text, or why it cannot be read (a folder named `x.yaml`, a dangling link). */
async function readDefinitionFile(path: string): Promise<{ path: string; text: string } | DefinitionProblem> {
  try {
    return { path, text: await readFile(path, 'utf8') };
  } catch (error) {
    return { file: path, message: unreadableFile(error as NodeJS.ErrnoException, 'a definition file') };
  }
}

/** Validates definitions given as texts; the pure core of `loadCatalog`. */
export function buildCatalog(files: readonly { readonly path: string; readonly text: string }[]): Catalog {
  const problems: DefinitionProblem[] = [];
  const byId = new Map<string, CohortDefinition>();
  const texts = new Map<string, string>();
  for (const file of files) {
    const result = parseDefinition(file.text, file.path);
    if (!result.ok) {
      problems.push(...result.problems);
      continue;
    }
    const definition = result.definition;
    const stem = basename(file.path, extname(file.path));
    if (stem !== definition.id) {
      problems.push({
        file: file.path,
        position: { line: lineOfId(file.text), col: 1 },
        message: `id "${definition.id}" must equal the file's base name "${stem}": rename the file or fix the id`,
      });
      continue;
    }
    const twin = byId.get(definition.id);
    if (twin) {
      problems.push({ file: file.path, message: `id "${definition.id}" is also defined in ${twin.path}` });
      continue;
    }
    byId.set(definition.id, definition);
    texts.set(definition.id, file.text);
  }
  problems.push(...referenceProblems(byId));
  if (problems.length > 0) return { definitions: [], problems };
  const ordered = dependencyOrder([...byId.values()]);
  if (!ordered.ok) return { definitions: [], problems: [cycleProblem(ordered.cycle)] };
  return { definitions: ordered.order, problems: [], texts };
}

function lineOfId(text: string): number {
  const index = text.split('\n').findIndex((line) => /^id\s*:/.test(line));
  return index >= 0 ? index + 1 : 1;
}

function referenceProblems(byId: ReadonlyMap<string, CohortDefinition>): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  for (const definition of byId.values()) {
    for (const ref of references(definition.rule)) {
      const target = byId.get(ref.id);
      const at = { file: definition.path, ...(ref.position ? { position: ref.position } : {}) };
      if (!target) {
        problems.push({ ...at, message: `cohort "${ref.id}" does not exist: no definition has that id` });
      } else if (target.deprecated) {
        const instead = target.deprecated.replaced_by ? `; use "${target.deprecated.replaced_by}" instead` : '';
        problems.push({ ...at, message: `cohort "${ref.id}" is deprecated (retired: ${target.deprecated.reason})${instead}` });
      }
    }
  }
  return problems;
}

function cycleProblem({ from, reference, loop }: ReferenceCycle): DefinitionProblem {
  return {
    file: from.path,
    ...(reference.position ? { position: reference.position } : {}),
    message: `cohort references form a cycle: ${loop.join(' -> ')}`,
  };
}

/**
 * The cohorts a run refreshes: the selected ones and everything they depend on, never a
 * deprecated one, in dependency order.
 */
export function selectForRun(
  catalog: readonly CohortDefinition[],
  select: { readonly ids?: readonly string[]; readonly cadence?: string },
): CohortDefinition[] {
  const byId = new Map(catalog.map((d) => [d.id, d]));
  for (const id of select.ids ?? []) {
    const definition = byId.get(id);
    if (!definition) throw new UnknownCohortError(id);
    if (definition.deprecated) throw new UnknownCohortError(id, `cohort ${shownValue(id)} is deprecated and is no longer refreshed`);
  }
  const live = catalog.filter((d) => !d.deprecated);
  const roots = live.filter(
    (d) =>
      (select.ids === undefined || select.ids.length === 0 || select.ids.includes(d.id)) &&
      (select.cadence === undefined || d.cadence === select.cadence),
  );
  const ids = roots.map((d) => d.id);
  const wanted = new Set([...ids, ...cohortGraph(catalog).closure(ids, 'dependencies')]);
  return live.filter((d) => wanted.has(d.id));
}

/** A cohort named on the command line that the catalog does not hold (or no longer refreshes). */
export class UnknownCohortError extends Error {
  override readonly name = 'UnknownCohortError';
  constructor(
    readonly cohortId: string,
    message = `no cohort ${shownValue(cohortId)} in the definitions`,
  ) {
    super(message);
  }
}
