import { stat } from 'node:fs/promises';
import { UsageError } from './errors.ts';

/**
 * Refuses an explicit `--config` naming a file that does not exist: a typo'd path would otherwise run
 * with every setting at its default (no privacy, default check levels) without a word. Without
 * `--config`, a missing `./cohorts.config.yaml` still means the defaults. Other problems (a folder,
 * an unreadable or invalid file) are left to the config's reader, which names them.
 */
export async function requireGivenConfig(path: string, explicit: boolean): Promise<void> {
  if (!explicit) return;
  const missing = await stat(path).then(
    () => false,
    (error: NodeJS.ErrnoException) => error.code === 'ENOENT',
  );
  if (missing)
    throw new UsageError(
      `--config ${path}: no such file (check the path; leave out --config to use ./cohorts.config.yaml or the defaults, or create the file: an empty one holds the defaults)`,
    );
}
