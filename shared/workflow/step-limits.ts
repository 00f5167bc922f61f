import { StateName } from './state-names.ts';

/** The Finish function's timeout: ReleaseTiles runs on it too. */
const FINISH_SECONDS = 120;

/**
 * How long each Lambda step's function may run, in seconds (its Lambda timeout). The state
 * machine gives each task {@link TASK_TIMEOUT_MARGIN_SECONDS} more, so in the cloud a slow function
 * meets its own timeout first (Sandbox.Timedout); locally, where no Lambda runs, the task's limit
 * is what a slow step meets (States.Timeout).
 */
export const FUNCTION_TIMEOUT_SECONDS = {
  [StateName.Plan]: 120,
  // Building every tile of a cold lake waits for its queries: Lambda's longest.
  [StateName.Tiles]: 900,
  [StateName.Snapshot]: 600,
  [StateName.Deliver]: 600,
  [StateName.ReleaseTiles]: FINISH_SECONDS,
  [StateName.Finish]: FINISH_SECONDS,
  [StateName.AlertFailure]: 60,
} as const;

export const TASK_TIMEOUT_MARGIN_SECONDS = 30;

/** The Lambda task a step runs: a Map runs its item's task. */
const TASK_OF: Record<string, keyof typeof FUNCTION_TIMEOUT_SECONDS> = {
  [StateName.Plan]: StateName.Plan,
  [StateName.Tiles]: StateName.Tiles,
  [StateName.SnapshotEach]: StateName.Snapshot,
  [StateName.Snapshot]: StateName.Snapshot,
  [StateName.DeliverEach]: StateName.Deliver,
  [StateName.Deliver]: StateName.Deliver,
  [StateName.ReleaseTiles]: StateName.ReleaseTiles,
  [StateName.Finish]: StateName.Finish,
  [StateName.AlertFailure]: StateName.AlertFailure,
};

/**
 * What a `States.Timeout` of a step means, in words: which task hit which limit. Step Functions
 * itself says only "States.Timeout". Undefined for a step that is not a Lambda task (Evaluate has
 * its own, configured limit).
 */
export function stepTimeoutText(step: string | undefined): string | undefined {
  const task = step === undefined ? undefined : TASK_OF[step];
  if (task === undefined) return undefined;
  const limit = FUNCTION_TIMEOUT_SECONDS[task] + TASK_TIMEOUT_MARGIN_SECONDS;
  return `${task} ran longer than its limit of ${limit} s (the task's TimeoutSeconds: its function's ${FUNCTION_TIMEOUT_SECONDS[task]} s timeout plus ${TASK_TIMEOUT_MARGIN_SECONDS} s)`;
}
