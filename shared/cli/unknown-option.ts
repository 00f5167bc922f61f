import { shownValue } from '../language/errors.ts';
import { nearestName } from '../language/nearest-name.ts';
import { UsageError } from './errors.ts';

/**
 * node's parseArgs refuses an unknown option with advice about positionals ("place it at the end of
 * the command after '--'"), which misleads after a typo: this names the option, and the known one it
 * is at most two edits from (fewer than half its letters: `-x` suggests nothing).
 */
export function unknownOptionError(error: unknown, known: readonly string[]): unknown {
  if ((error as NodeJS.ErrnoException | undefined)?.code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return error;
  const given = /^Unknown option '([^']*)'/.exec((error as Error).message)?.[1];
  if (given === undefined) return error;
  const near = nearestName(given.replace(/^-+/, ''), known);
  const hint = near ? ` (did you mean --${near}?)` : '';
  return new UsageError(`unknown option ${shownValue(given)}${hint}; cohorts --help lists the options`);
}
