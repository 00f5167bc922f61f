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
