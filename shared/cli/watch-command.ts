import pc from 'picocolors';
import { loadCatalog } from '../language/catalog.ts';
import { InvalidDefinitionsError } from '../language/errors.ts';
import { openLocalContext } from '../local/local-context.ts';
import { findLakeFiles } from '../local/lake-files.ts';
import { watchLake } from '../local/lake-watch.ts';
import { StateBusyError, withRunLock } from '../local/run-lock.ts';
import { changes } from '../store/member-changes.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';
import type { LocalRun } from '../workflow/local-tasks.ts';
import { runCommand } from './commands.ts';
import { RepeatedAlerts } from './repeated-alerts.ts';
import { UsageError } from './errors.ts';
import type { Folders, Output } from './io.ts';

/** Options of `cohorts watch`. */
export interface WatchOptions {
  /** Time between two listings of the lake. */
  readonly pollMs: number;
  /** Quiet time after a change before the refresh starts (debounce). */
  readonly quietMs: number;
  /** Most ids printed per cohort and direction; the rest are counted. */
  readonly listed: number;
  /** Ends the watch after the refresh in progress. */
  readonly signal: AbortSignal;
}

/** The trigger recorded by the refreshes `cohorts watch` starts. */
export const WATCH_TRIGGER = 'watch';

/** `a, b, c (and 7 more)`. */
function capped(ids: readonly string[], listed: number): string {
  const shown = ids.slice(0, listed).join(', ');
  return ids.length > listed ? `${shown} (and ${ids.length - listed} more)` : shown;
}

/** One line per refreshed cohort, then who entered and who exited (ids capped). */
async function printRun(run: LocalRun, store: SnapshotStore, listed: number, io: Output): Promise<void> {
  const time = run.summary.finished_at.slice(11, 19);
  for (const outcome of run.summary.cohorts) {
    if (outcome.status === 'unchanged') {
      io.out(`${time} ${outcome.cohort} v${outcome.version}: unchanged`);
      continue;
    }
    const held = outcome.status === 'held' ? pc.yellow(' (held: not published)') : '';
    io.out(
      `${time} ${outcome.cohort} v${outcome.version}: ${outcome.size} members, ${pc.green(`+${outcome.entered}`)} entered, ${pc.red(`-${outcome.exited}`)} exited${held}`,
    );
    if (outcome.entered + outcome.exited === 0) continue;
    const now = await store.members(outcome.cohort, outcome.version);
    const before = outcome.previous_version === null ? [] : await store.members(outcome.cohort, outcome.previous_version);
    const { entered, exited } = changes(now, before);
    if (entered.length > 0) io.out(`  + ${capped(entered, listed)}`);
    if (exited.length > 0) io.out(`  - ${capped(exited, listed)}`);
  }
}

/** runCommand's routine lines, which a watch repeating every few seconds leaves out. */
const ROUTINE = /^(running the refresh state machine|exports: |report: )/;

/**
 * `cohorts watch`: refreshes the realtime cohorts (and what they read) from tiles whenever files
 * land in the lake, debounced, as of the moment of each refresh. Refreshes never overlap: each
 * takes the state folder's run lock (a `cohorts run` holding it makes the watch try again at the
 * next listing), and files landing during one make one more refresh after it. A failed refresh
 * is printed and the watch goes on. Returns 0 once the signal aborts and the refresh in progress
 * has finished.
 */
export async function watchCommand(folders: Folders, options: WatchOptions, io: Output): Promise<number> {
  const catalog = await loadCatalog(folders.definitions);
  if (catalog.problems.length > 0) throw new InvalidDefinitionsError(catalog.problems);
  const realtime = catalog.definitions.filter((d) => d.cadence === 'realtime' && !d.deprecated);
  if (realtime.length === 0) {
    throw new UsageError(`no cohort in ${folders.definitions} has cadence: realtime; watch refreshes those (give one cadence: realtime)`);
  }
  // A missing lake fails here, as `cohorts run` does, before the watch is announced.
  await findLakeFiles(folders.data);
  io.err(`watching ${folders.data} for new files; refreshing ${realtime.map((d) => d.id).join(', ')} from tiles after each (Ctrl-C stops)`);
  // Alerts that repeat unchanged refresh after refresh are printed once (RepeatedAlerts).
  const alerts = new RepeatedAlerts((line) => io.err(line));
  const quiet: Output = { out: () => undefined, err: (line) => (ROUTINE.test(line) ? undefined : alerts.line(line)), interactive: false };
  const { store } = await openLocalContext(folders);
  let runs = 0;
  let failures = 0;
  const refresh = async (): Promise<boolean> => {
    try {
      const run = await withRunLock(folders.state, 'watch', () =>
        runCommand(folders, { cohorts: [], cadence: 'realtime', force: false, trigger: WATCH_TRIGGER, report: false }, quiet).finally(() =>
          alerts.flush(),
        ),
      );
      runs += 1;
      await printRun(run, store, options.listed, io);
    } catch (error) {
      if (error instanceof StateBusyError) {
        io.err(pc.yellow(`the state folder is busy (${error.holder?.command ?? 'another command'}); refreshing once it is free`));
        return false;
      }
      failures += 1;
      io.err(`${pc.red('refresh failed:')} ${error instanceof Error ? error.message : String(error)} (still watching)`);
    }
    return true;
  };
  await watchLake({ dir: folders.data, pollMs: options.pollMs, quietMs: options.quietMs, signal: options.signal }, refresh, true);
  io.err(`stopped: ${runs} refresh${runs === 1 ? '' : 'es'}, ${failures} failed`);
  return 0;
}
