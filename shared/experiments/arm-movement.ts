import { changes } from '../store/member-changes.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';

/** One arm of an experiment in a version: its people, and how many joined and left it since the previous version. */
export interface ArmCounts {
  readonly size: number;
  readonly entered: number;
  readonly exited: number;
}

/**
 * The arms of a version whose cohort holds out members: treatment (the people a program acts on)
 * and holdout, each against the same arm of the previous version (compared with, as entered and
 * exited are). A previous version without a holdout had everyone in treatment.
 */
export interface ExperimentArms {
  readonly treatment: ArmCounts;
  readonly holdout: ArmCounts;
}

/** The members of a version and its holdout (undefined: the version held nobody out). */
export interface SplitLists {
  readonly members: readonly string[];
  readonly holdout: readonly string[] | undefined;
}

/** How each arm moved from `previous` (undefined: no previous version) to `current`. */
export function armMovement(
  current: SplitLists & { readonly holdout: readonly string[] },
  previous: SplitLists | undefined,
): ExperimentArms {
  const arms = (lists: SplitLists) => {
    const held = new Set(lists.holdout ?? []);
    return { treatment: lists.members.filter((id) => !held.has(id)), holdout: [...held] };
  };
  const now = arms(current);
  const before = previous === undefined ? { treatment: [], holdout: [] } : arms(previous);
  const counts = (after: readonly string[], earlier: readonly string[]): ArmCounts => {
    const moved = changes(after, earlier);
    return { size: after.length, entered: moved.entered.length, exited: moved.exited.length };
  };
  return { treatment: counts(now.treatment, before.treatment), holdout: counts(now.holdout, before.holdout) };
}

/**
 * The arms of a stored version, read back from its files (a retried step's answer); undefined for
 * a version without a holdout.
 */
export async function storedArmMovement(
  store: SnapshotStore,
  cohort: string,
  version: number,
  previousVersion: number | null,
): Promise<ExperimentArms | undefined> {
  const holdout = await store.holdout(cohort, version);
  if (holdout === undefined) return undefined;
  const current = { members: await store.members(cohort, version), holdout };
  if (previousVersion === null) return armMovement(current, undefined);
  return armMovement(current, {
    members: await store.members(cohort, previousVersion),
    holdout: await store.holdout(cohort, previousVersion),
  });
}
