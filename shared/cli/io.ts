import { isCalendarDay } from '../language/calendar.ts';
import { shownValue } from '../language/errors.ts';
import { COHORT_ID } from '../language/schema.ts';
import { UsageError } from './errors.ts';

/** Folders every command may take. */
export interface Folders {
  readonly data: string;
  readonly definitions: string;
  readonly state: string;
  /** The project config file (`cohorts.config.yaml`); defaults apply when the default path does not exist (an explicit `--config` must). */
  readonly config: string;
  /** The privacy key file (`--privacy-key`). @default - defaultKeyFile() (outside the state folder) */
  readonly privacyKey?: string;
}

/** Where a command writes; tests pass their own. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
  readonly interactive: boolean;
}

/** `--as-of` (or another instant option, `flag`): an ISO-8601 instant on a day that exists; now when absent. */
export function parseAsOf(text: string | undefined, flag = '--as-of'): Date {
  if (text === undefined) return new Date();
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(text) || Number.isNaN(date.getTime())) {
    throw new UsageError(`${flag} must be an ISO-8601 instant such as 2024-06-01T00:00:00Z, got ${shownValue(text)}`);
  }
  if (!isCalendarDay(text))
    throw new UsageError(
      `${flag} must be a day that exists (${text.slice(0, 7)} has no day ${text.slice(8, 10)}), got ${shownValue(text)}`,
    );
  return date;
}

/**
 * A cohort id named on the command line (`members ID`, `history ID`, ...): one a definition could have. Anything
 * else (a path such as `../x`, a capital letter) is a usage error naming the rule, never a key looked up in a store.
 */
export function cohortIdArgument(text: string): string {
  if (!COHORT_ID.test(text))
    throw new UsageError(
      `${shownValue(text)} is not a cohort id (a lowercase letter, then lowercase letters, digits or _; 3 to 63 in all)`,
    );
  return text;
}

/** A version argument (`members --version`, `diff`): a whole number from 1. */
export function parseVersion(text: string): number {
  const version = Number(text);
  if (!Number.isSafeInteger(version) || version < 1) throw new UsageError(`a version is a whole number from 1, got ${shownValue(text)}`);
  return version;
}
