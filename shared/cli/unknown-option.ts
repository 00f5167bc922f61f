import { shownValue } from '../language/errors.ts';
import { UsageError } from './errors.ts';

/** Edits (insert, delete, replace) that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        (previous[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = row;
  }
  return previous[b.length] as number;
}

/**
 * node's parseArgs refuses an unknown option with advice about positionals ("place it at the end of
 * the command after '--'"), which misleads after a typo: this names the option, and the known one it
 * is at most two edits from (fewer than half its letters: `-x` suggests nothing).
 */
export function unknownOptionError(error: unknown, known: readonly string[]): unknown {
  if ((error as NodeJS.ErrnoException | undefined)?.code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return error;
  const given = /^Unknown option '([^']*)'/.exec((error as Error).message)?.[1];
  if (given === undefined) return error;
  const name = given.replace(/^-+/, '');
  const near = known
    .map((option) => ({ option, edits: editDistance(name, option) }))
    .filter(({ edits }) => edits <= 2 && edits * 2 < name.length)
    .sort((a, b) => a.edits - b.edits)[0];
  const hint = near ? ` (did you mean --${near.option}?)` : '';
  return new UsageError(`unknown option ${shownValue(given)}${hint}; cohorts --help lists the options`);
}
