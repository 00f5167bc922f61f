import type { ProgramBlock } from '../language/ast.ts';
import type { ExperimentSplit } from '../store/manifest.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';
import { splitMembers } from './holdout.ts';
import { holdoutShare } from '../language/holdout-schema.ts';

/**
 * For a cohort whose program declares a holdout: splits the version's members, writes the holdout
 * beside members.parquet (before the manifest makes the version exist) and returns what the
 * manifest records (`split`) with the holdout's members. Nothing for a cohort without one.
 */
export async function writeHoldoutSplit(
  cohort: string,
  version: number,
  program: ProgramBlock | null,
  members: readonly string[],
  store: SnapshotStore,
): Promise<{ readonly split: ExperimentSplit; readonly holdout: readonly string[] } | undefined> {
  if (!program?.holdout || program.salt === undefined || program.experiment === undefined) return undefined;
  const share = holdoutShare(program.holdout);
  if (share === undefined) return undefined;
  const { treatment, holdout } = splitMembers({ share, salt: program.salt }, members);
  const file = await store.writeHoldout(cohort, version, holdout);
  const split: ExperimentSplit = {
    name: program.experiment,
    holdout: program.holdout,
    salt: program.salt,
    method: 'sha256(salt + person_id) < share',
    treatment_size: treatment.length,
    holdout_size: holdout.length,
    holdout_file: file,
  };
  return { split, holdout };
}
