/** A place in a definition file, 1-based. */
export interface SourcePosition {
  readonly line: number;
  readonly col: number;
}

/** One problem with one definition file, printed as `path:line:col: message`. */
export interface DefinitionProblem {
  readonly file: string;
  readonly position?: SourcePosition;
  readonly message: string;
}

/** Formats a problem the way `cohorts validate` prints it. */
export function formatProblem(problem: DefinitionProblem): string {
  const where = problem.position ? `${problem.file}:${problem.position.line}:${problem.position.col}` : problem.file;
  return `${where}: ${problem.message}`;
}

/** Thrown when definitions are invalid; carries every problem found, not only the first. */
export class InvalidDefinitionsError extends Error {
  override readonly name = 'InvalidDefinitionsError';
  constructor(readonly problems: readonly DefinitionProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

/** The longest value an error message quotes; longer ones end in an ellipsis. */
export const MAX_SHOWN_CHARS = 80;

/**
 * A value as an error message quotes it: JSON, cut to {@link MAX_SHOWN_CHARS} characters, so a
 * message never echoes unbounded input; `nothing` for undefined.
 */
export function shownValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string' && value.length > MAX_SHOWN_CHARS - 2) return JSON.stringify(`${value.slice(0, MAX_SHOWN_CHARS - 3)}…`);
  const json = JSON.stringify(value) ?? String(value);
  return json.length > MAX_SHOWN_CHARS ? `${json.slice(0, MAX_SHOWN_CHARS - 1)}…` : json;
}

/** Why a file named on the command line or found in a folder cannot be read, in words. */
export function unreadableFile(error: NodeJS.ErrnoException, what: string): string {
  switch (error.code) {
    case 'EISDIR':
      return `is a folder, not ${what}`;
    case 'ENOENT':
      return 'cannot be read: no such file (a link to a file that does not exist?)';
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read: permission denied';
    default:
      return `cannot be read: ${error.code ?? error.message}`;
  }
}
