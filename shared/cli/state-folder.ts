import { stat } from 'node:fs/promises';
import { UsageError } from './errors.ts';

/** Whether `state` is an existing folder. */
export function stateFolderExists(state: string): Promise<boolean> {
  return stat(state).then(
    (found) => found.isDirectory(),
    () => false,
  );
}

/**
 * Refuses a state folder that does not exist (a typo'd `--state`, or no run yet) for a command that
 * only reads it: a privacy check of nothing passes and a report of nothing is empty, and either would
 * look like an answer about the project.
 */
export async function requireStateFolder(state: string, command: string): Promise<void> {
  if (!(await stateFolderExists(state)))
    throw new UsageError(`no state folder at ${state}: ${command} has nothing to read (check --state, or run \`cohorts run\` first)`);
}

/**
 * Where `cohorts forget` records an erasure. An explicit `--state` that does not exist is refused:
 * a typo'd one would "forget" the person in a folder no refresh reads while the real one keeps them.
 * The default folder is where the first `cohorts run` here will look, so a request before any run
 * creates it (said on stderr) and the erasure holds from that run on.
 */
export async function forgetStateFolder(state: string, explicit: boolean, note: (line: string) => void): Promise<void> {
  if (await stateFolderExists(state)) return;
  if (explicit)
    throw new UsageError(
      `no state folder at ${state}: forget would record the erasure where no refresh reads it (check --state; before the first run of that folder, create it: mkdir -p ${state})`,
    );
  note(`no state folder at ${state} yet: created it for the erasure record, which every \`cohorts run\` here reads`);
}
