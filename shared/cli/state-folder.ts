import { stat } from 'node:fs/promises';
import { UsageError } from './errors.ts';

/**
 * Refuses a state folder that does not exist (a typo'd `--state`, or no run yet) for a command that
 * only reads it: a privacy check of nothing passes and a report of nothing is empty, and either would
 * look like an answer about the project.
 */
export async function requireStateFolder(state: string, command: string): Promise<void> {
  const isFolder = await stat(state).then(
    (found) => found.isDirectory(),
    () => false,
  );
  if (!isFolder)
    throw new UsageError(`no state folder at ${state}: ${command} has nothing to read (check --state, or run \`cohorts run\` first)`);
}
