import { basename, extname } from 'node:path';
import type { EventFilter } from './ast.ts';
import type { DefinitionProblem } from './errors.ts';
import { actionFileSchema } from './schema.ts';
import { readYamlFile } from './yaml-file.ts';

/** The folder of named actions inside a definitions folder (or bucket prefix). */
export const ACTIONS_FOLDER = 'actions';

/** A file's place and text, as read (an action file, or a definition file). */
export interface SourceText {
  readonly path: string;
  readonly text: string;
}

/** A named action (`<definitions>/actions/<id>.yaml`): an event filter with an owner and a purpose. */
export interface NamedAction {
  readonly id: string;
  readonly owner: string;
  readonly purpose: string;
  /** The events it stands for: event names, sources and `where`; never a window. */
  readonly filter: Omit<EventFilter, 'window' | 'action'>;
  /** The file it came from, as read. */
  readonly source: SourceText;
}

/** The actions a definition may name, by id. */
export type ActionSet = ReadonlyMap<string, NamedAction>;

/** No actions: what a definition is read against when none are given. */
export const NO_ACTIONS: ActionSet = new Map();

/** Reads and validates action files; every problem carries the file and, where it can, its line and column. */
export function buildActions(files: readonly SourceText[]): {
  readonly actions: ActionSet;
  readonly problems: readonly DefinitionProblem[];
} {
  const actions = new Map<string, NamedAction>();
  const problems: DefinitionProblem[] = [];
  for (const file of files) {
    const read = readYamlFile(
      file.text,
      file.path,
      actionFileSchema,
      'an action must be a YAML mapping of id, owner, purpose and an event filter (event, source, where)',
      { emptyIsMapping: false },
    );
    if (!read.ok) {
      problems.push(...read.problems);
      continue;
    }
    const stem = basename(file.path, extname(file.path));
    if (read.value.id !== stem) {
      const position = read.valuePositionOf(['id']);
      problems.push({
        file: file.path,
        ...(position ? { position } : {}),
        message: `id "${read.value.id}" must equal the file's base name "${stem}": rename the file or fix the id`,
      });
      continue;
    }
    const twin = actions.get(read.value.id);
    if (twin) {
      problems.push({ file: file.path, message: `action "${read.value.id}" is also defined in ${twin.source.path}` });
      continue;
    }
    actions.set(read.value.id, { ...read.value, source: { path: file.path, text: file.text } });
  }
  return { actions, problems };
}
