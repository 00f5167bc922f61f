import { readdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { ACTIONS_FOLDER, type ActionSet, buildActions, type SourceText } from './actions.ts';
import type { CohortDefinition } from './ast.ts';
import { type DefinitionProblem, shownValue } from './errors.ts';
import { isProblem, type ReadFile, readFolderFile, readSubFolder } from './definition-folder.ts';
import { leaves, mapLeaves } from './condition-leaves.ts';
import { cohortGraph, dependencyOrder, type ReferenceCycle, references } from './graph.ts';
import { parseDefinition } from './parse-definition.ts';
import { actionsUsed } from './resolve-actions.ts';
import { LISTS_FOLDER, parseListFile, type UploadedList } from './uploaded-lists.ts';

/** Every definition of a folder, validated together. */
export interface Catalog {
  /** Valid definitions, in dependency order (a cohort after every cohort it references). */
  readonly definitions: readonly CohortDefinition[];
  /** Problems; the catalog may only be used when this is empty. */
  readonly problems: readonly DefinitionProblem[];
  /** The YAML of each valid definition, by id, as read (the catalog of accepted versions keeps it). */
  readonly texts?: ReadonlyMap<string, string>;
  /**
   * The files of the named actions each valid definition uses, by id (only definitions that use
   * one): an accepted version keeps them beside its YAML, so it reads the same later.
   */
  readonly actions?: ReadonlyMap<string, readonly SourceText[]>;
  /** The uploaded lists read beside the definitions (`lists/<name>.csv`), by name; absent when none were read. */
  readonly lists?: ReadonlyMap<string, UploadedList>;
}

/**
 * A definition file to validate. `actions`: the action files it was accepted with (a published
 * version), which it is read against instead of the catalog's own actions.
 */
export interface CatalogFile extends SourceText {
  readonly actions?: readonly SourceText[];
}

const DEFINITION_FILE = /\.ya?ml$/;

/**
 * Reads and validates every `*.yaml`/`*.yml` file of a folder (SPEC section 3), with the named
 * actions of its `actions/` folder and the uploaded lists of its `lists/` (none when there is no
 * such folder; one that cannot be read is a problem at its path).
 */
export async function loadCatalog(folder: string): Promise<Catalog> {
  let names: string[];
  try {
    names = (await readdir(folder)).filter((name) => DEFINITION_FILE.test(name)).sort();
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder (check --definitions)' : (error as Error).message;
    return { definitions: [], problems: [{ file: folder, message: `cannot read the definitions folder: ${reason}` }] };
  }
  const read = await Promise.all(names.map((name) => readFolderFile(join(folder, name), 'a definition file')));
  const readActions = await readSubFolder(join(folder, ACTIONS_FOLDER), (name) => DEFINITION_FILE.test(name), {
    folder: 'the actions folder',
    file: 'a definition file',
  });
  const lists = await readSubFolder(join(folder, LISTS_FOLDER), (name) => !name.startsWith('.'), {
    folder: 'the lists folder',
    file: 'a list file',
  });
  const unreadable = [...read, ...readActions, ...lists].filter(isProblem);
  const isText = (file: ReadFile): file is SourceText => !isProblem(file);
  const catalog = buildCatalog(read.filter(isText), readActions.filter(isText), lists.filter(isText));
  if (unreadable.length === 0) return catalog;
  return { definitions: [], problems: [...unreadable, ...catalog.problems] };
}

/**
 * Validates definitions given as texts, with the named actions `actionFiles` (a file that brings
 * its own `actions` is read against those); the pure core of `loadCatalog`. With `listFiles` (the
 * files of `lists/`, even none, or the lists another catalog read) every `list:` leaf must name
 * one of them and carries its content; without, list leaves are not checked (a catalog rebuilt
 * from kept texts).
 */
export function buildCatalog(
  files: readonly CatalogFile[],
  actionFiles: readonly SourceText[] = [],
  listFiles?: readonly SourceText[] | ReadonlyMap<string, UploadedList>,
): Catalog {
  const shared = buildActions(actionFiles);
  const problems: DefinitionProblem[] = [...shared.problems];
  const lists = new Map<string, UploadedList>();
  if (listFiles instanceof Map) for (const [name, list] of listFiles) lists.set(name, list);
  else {
    for (const file of (listFiles ?? []) as readonly SourceText[]) {
      const parsed = parseListFile(file.path, file.text);
      problems.push(...parsed.problems);
      if (parsed.list) lists.set(parsed.list.name, parsed.list);
    }
  }
  const byId = new Map<string, CohortDefinition>();
  const texts = new Map<string, string>();
  const used = new Map<string, readonly SourceText[]>();
  // The files that do not parse, by base name (their id as far as can be told): a reference to one is no "missing" cohort.
  const unparsed = new Map<string, string>();
  for (const file of files) {
    let actions: ActionSet = shared.actions;
    if (file.actions) {
      const pinned = buildActions(file.actions);
      problems.push(...pinned.problems);
      actions = pinned.actions;
    }
    const result = parseDefinition(file.text, file.path, actions);
    if (!result.ok) {
      problems.push(...result.problems);
      unparsed.set(basename(file.path, extname(file.path)), file.path);
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
    const names = actionsUsed(definition.rule);
    if (names.length > 0)
      used.set(
        definition.id,
        names.map((name) => (actions.get(name) as { source: SourceText }).source),
      );
  }
  problems.push(...referenceProblems(byId, unparsed));
  if (listFiles) problems.push(...listProblems(byId, lists));
  // A cycle among the valid definitions is reported beside every other problem, not only once they are fixed.
  const ordered = dependencyOrder([...byId.values()]);
  if (!ordered.ok) problems.push(cycleProblem(ordered.cycle));
  if (!ordered.ok || problems.length > 0) return { definitions: [], problems };
  const actions = used.size > 0 ? { actions: used } : {};
  if (!listFiles) return { definitions: ordered.order, problems: [], texts, ...actions };
  return { definitions: ordered.order.map((d) => withListContent(d, lists)), problems: [], texts, ...actions, lists };
}

/** Every `list:` leaf that names no list file read. */
function listProblems(byId: ReadonlyMap<string, CohortDefinition>, lists: ReadonlyMap<string, UploadedList>): DefinitionProblem[] {
  return [...byId.values()].flatMap((definition) =>
    leaves(definition.rule).flatMap((leaf) =>
      leaf.kind !== 'list' || lists.has(leaf.name)
        ? []
        : [
            {
              file: definition.path,
              ...(leaf.position ? { position: leaf.position } : {}),
              message: `list "${leaf.name}" does not exist: upload it as ${LISTS_FOLDER}/${leaf.name}.csv beside the definitions`,
            },
          ],
    ),
  );
}

/** The definition with the content (hash, entry count) of each list it reads. */
function withListContent(definition: CohortDefinition, lists: ReadonlyMap<string, UploadedList>): CohortDefinition {
  if (!leaves(definition.rule).some((leaf) => leaf.kind === 'list')) return definition;
  const rule = mapLeaves(definition.rule, (leaf) => {
    const list = leaf.kind === 'list' ? lists.get(leaf.name) : undefined;
    return list ? { ...leaf, content: { hash: list.hash, entries: list.entries } } : leaf;
  });
  return { ...definition, rule };
}

function lineOfId(text: string): number {
  const index = text.split('\n').findIndex((line) => /^id\s*:/.test(line));
  return index >= 0 ? index + 1 : 1;
}

/** References to unknown or deprecated cohorts; `unparsed`: the paths of files that did not parse, by base name. */
function referenceProblems(byId: ReadonlyMap<string, CohortDefinition>, unparsed: ReadonlyMap<string, string>): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  for (const definition of byId.values()) {
    for (const ref of references(definition.rule)) {
      const target = byId.get(ref.id);
      const at = { file: definition.path, ...(ref.position ? { position: ref.position } : {}) };
      const broken = target ? undefined : unparsed.get(ref.id);
      if (broken !== undefined) {
        problems.push({
          ...at,
          message: `cohort "${ref.id}" cannot be read: its file ${broken} has problems of its own (fix those first)`,
        });
      } else if (!target) {
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
