import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { findLakeFiles } from './lake-files.ts';

/**
 * What the lake holds now: every events and identities file with its size and modification
 * time, one line each. Two equal signatures mean no file landed, grew or was replaced.
 */
export async function lakeSignature(dir: string): Promise<string> {
  const files = await findLakeFiles(dir);
  const paths = [...files.events.parquet, ...files.events.jsonl, ...files.identities.parquet, ...files.identities.jsonl].sort();
  const lines = await Promise.all(
    paths.map((path) =>
      stat(path).then(
        (s) => `${path}\t${s.size}\t${s.mtimeMs}`,
        () => `${path}\tgone`,
      ),
    ),
  );
  return lines.join('\n');
}

/** How {@link watchLake} polls. */
export interface LakeWatchOptions {
  readonly dir: string;
  /** Time between two listings of the lake. */
  readonly pollMs: number;
  /** A change is acted on once the lake has been quiet this long (files landing together make one run). */
  readonly quietMs: number;
  /** Ends the watch; a run in progress finishes first. */
  readonly signal: AbortSignal;
}

/**
 * Calls `onChange` whenever the lake's files changed and then stayed unchanged for `quietMs`
 * (debounced; files landing steadily wait three quiet times at most), one call at a time: files landing during a call make exactly one more call after
 * it (a queue of one), never an overlapping one. Polls the listing rather than fs.watch, which
 * misses renames into new partition folders on some platforms. The first call is for the lake as
 * found when `initial` is true. `onChange` returns false to be called again after the next listing
 * (it could not act now). Returns when the signal aborts, after the call in progress.
 */
export async function watchLake(options: LakeWatchOptions, onChange: () => Promise<boolean>, initial = false): Promise<void> {
  const { signal } = options;
  const wait = (ms: number) => sleep(ms, undefined, { signal }).catch(() => undefined);
  let handled = initial ? '' : await lakeSignature(options.dir);
  while (!signal.aborted) {
    const seen = await lakeSignature(options.dir);
    if (seen === handled) {
      await wait(options.pollMs);
      continue;
    }
    // Debounce: wait until a listing equals the one before it, quietMs apart, but no longer than
    // three quiet times in all, so a steady stream of files still gets refreshed.
    let settled = seen;
    const deadline = Date.now() + 3 * options.quietMs;
    for (;;) {
      await wait(options.quietMs);
      if (signal.aborted) return;
      const again = await lakeSignature(options.dir);
      if (again === settled || Date.now() >= deadline) {
        settled = again;
        break;
      }
      settled = again;
    }
    if (await onChange()) handled = settled;
  }
}
