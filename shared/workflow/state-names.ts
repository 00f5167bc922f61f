/**
 * Names of the refresh state machine's states. They are a contract: the local runner overrides
 * Task states by name, alerts name the failed step, and renaming a state changes the execution
 * history operators search. Change them only together with every user.
 */
export const StateName = {
  /** Lambda task: selects cohorts, compiles the one query, assigns versions. */
  Plan: 'Plan',
  /**
   * Choice: Skipped when Plan skipped the run (an earlier run of the same cadence still running, no
   * cohort of the cadence, or a realtime tick finding the tile store's lease held), else Tiles.
   */
  Overlapping: 'Overlapping',
  /** The run did nothing: see Overlapping for why (no overlap; the next tick refreshes). */
  Skipped: 'Skipped',
  /**
   * Lambda task: brings the daily tiles up to date and compiles the tiled query (issue 14); in
   * `verify` mode also checks it against the full computation. Leaves the statement Evaluate runs.
   */
  Tiles: 'Tiles',
  /** Athena task (`startQueryExecution.sync`): runs the Tiles step's statement and keeps its result. */
  Evaluate: 'Evaluate',
  /**
   * Lambda task (the Finish function, with a `release_tiles` payload): gives the tile store's lease
   * back as soon as Evaluate has kept its result, since nothing after it reads or writes the tiles.
   * Its failure does not fail the run (caught, on to SnapshotEach): Finish and AlertFailure give the
   * lease back too.
   */
  ReleaseTiles: 'ReleaseTiles',
  /** Inline Map over the plan's cohorts. */
  SnapshotEach: 'SnapshotEach',
  /** Lambda task inside SnapshotEach: checks, writes and publishes one cohort's version. */
  Snapshot: 'Snapshot',
  /** Inline Map over the Snapshot outcomes. */
  DeliverEach: 'DeliverEach',
  /** Lambda task inside DeliverEach: exports a published version and publishes its event. */
  Deliver: 'Deliver',
  /** Lambda task: run summary, one alert when something warned, failed or was held. */
  Finish: 'Finish',
  /** The run succeeded. */
  Succeeded: 'Succeeded',
  /** Lambda task: publishes the `error` alert naming the failed step. */
  AlertFailure: 'AlertFailure',
  /** The run failed; the execution ends with the original error. */
  Failed: 'Failed',
} as const;

export type StateName = (typeof StateName)[keyof typeof StateName];

/** Steps whose failure is caught and alerted, in the order they run. */
export const CAUGHT_STEPS = [
  StateName.Plan,
  StateName.Tiles,
  StateName.Evaluate,
  StateName.SnapshotEach,
  StateName.DeliverEach,
  StateName.Finish,
] as const;

export type CaughtStep = (typeof CAUGHT_STEPS)[number];

/** The Pass state a caught step's failure goes through: it records which step failed. */
export const failureStateOf = (step: CaughtStep): string => `${step}Failed`;

/** Every Task state, each of which the local runner must override. */
export const TASK_STATES = [
  StateName.Plan,
  StateName.Tiles,
  StateName.Evaluate,
  StateName.ReleaseTiles,
  StateName.Snapshot,
  StateName.Deliver,
  StateName.Finish,
  StateName.AlertFailure,
] as const;

export type TaskStateName = (typeof TASK_STATES)[number];
