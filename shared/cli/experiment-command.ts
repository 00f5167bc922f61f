import { parseDuration } from '../language/duration.ts';
import { NoExperimentError, readOutExperiments } from '../experiments/read-out.ts';
import type { Folders, Output } from './io.ts';
import { UsageError } from './errors.ts';
import { formatReadOut } from './experiment-format.ts';
import { openLocalContext } from '../local/local-context.ts';
import { existingVersion, noVersionsMessage } from './cohort-versions.ts';
import { unseenEvents } from '../experiments/unseen-events.ts';
import { shownValue } from '../language/errors.ts';

/** Options of `cohorts experiment`. */
export interface ExperimentOptions {
  readonly metrics: readonly string[];
  readonly within?: string;
  readonly version?: string;
}

/**
 * `cohorts experiment ID... --metric EVENT... --within 14d [--version N]`: treatment against holdout
 * for each cohort and metric, with p-values adjusted together (Benjamini-Hochberg).
 */
export async function experimentCommand(
  folders: Pick<Folders, 'data' | 'state'>,
  ids: readonly string[],
  options: ExperimentOptions,
  io: Output,
): Promise<number> {
  const usage = 'usage: cohorts experiment ID [ID]... --metric EVENT [--metric EVENT]... --within 14d [--version N]';
  if (ids.length === 0 || options.metrics.length === 0 || options.within === undefined) throw new UsageError(usage);
  const within = parseDuration(options.within);
  if ('error' in within) throw new UsageError(`--within ${within.error}`);
  if (options.version !== undefined && ids.length > 1)
    throw new UsageError('--version picks the version of one cohort; name one cohort with it');
  const { engine, store } = await openLocalContext(folders);
  // An id with no versions, or a version it lacks, is named as members, diff and learn name it.
  for (const id of ids) if ((await store.versions(id)).length === 0) throw new UsageError(noVersionsMessage(id, folders.state));
  const version =
    options.version === undefined ? undefined : await existingVersion(store, ids[0] as string, options.version, folders.state);
  const rows = await readOutExperiments(
    { cohorts: ids.map((id) => ({ id, ...(version === undefined ? {} : { version }) })), metrics: [...new Set(options.metrics)], within },
    { engine, store },
  ).catch((error: unknown) => {
    // An id or version with no experiment to read out is the command line's mistake, as in members and diff.
    throw error instanceof NoExperimentError ? new UsageError(error.message) : error;
  });
  io.out(formatReadOut(rows, within.text));
  const nobody = [...new Set(options.metrics)].filter((metric) =>
    rows.filter((row) => row.metric === metric).every((row) => row.treatment.converted + row.holdout.converted === 0),
  );
  for (const metric of await unseenEvents(engine, nobody)) {
    io.err(`no event in the lake at ${folders.data} is named ${shownValue(metric)}: check --metric (event names match exactly)`);
  }
  return 0;
}
