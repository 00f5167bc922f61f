import pc from 'picocolors';
import { InvalidLearningError, type Learning } from '../learnings/learnings-store.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';
import type { Folders, Output } from './io.ts';
import { UsageError } from './errors.ts';
import { localLearnings, openLocalContext } from '../local/local-context.ts';
import { existingVersion, noVersionsMessage } from './cohort-versions.ts';

/** Options of `cohorts learn`. */
export interface LearnOptions {
  /** The version the note is about. @default - the current version (or the latest one when none is published) */
  readonly version?: string;
  /** Who learned it. @default - unknown */
  readonly by?: string;
}

/** `cohorts learn ID "note" [--version N] [--by NAME]`: records a note in the learnings library. */
export async function learnCommand(
  folders: Pick<Folders, 'data' | 'state'>,
  id: string,
  note: string,
  options: LearnOptions,
  io: Output,
): Promise<number> {
  const { store } = await openLocalContext(folders);
  const version = await chosenVersion(store, id, options.version, folders.state);
  const { learning, added } = await localLearnings(folders.state)
    .record({ cohort: id, version, note, by: options.by ?? null, at: new Date() })
    .catch((error: unknown) => {
      // An empty or overlong note is a bad value on the command line (README, exit codes: 2).
      throw error instanceof InvalidLearningError ? new UsageError(error.message) : error;
    });
  const author = learning.by ? ` by ${learning.by}` : '';
  if (added) io.err(pc.green(`recorded a learning for ${id} v${version}${author}`));
  else io.err(`this note is already recorded for ${id} v${version}${author} (at ${learning.recorded_at}): nothing added`);
  return 0;
}

async function chosenVersion(store: SnapshotStore, id: string, text: string | undefined, state: string): Promise<number> {
  if (text !== undefined) return existingVersion(store, id, text, state);
  const versions = await store.versions(id);
  if (versions.length === 0) throw new UsageError(`${noVersionsMessage(id, state)} (notes are kept beside the snapshots)`);
  return (await store.current(id)) ?? (versions.at(-1) as number);
}

/** The lines `cohorts history` prints under the versions: every note, oldest first. */
export function learningLines(learnings: readonly Learning[]): string[] {
  if (learnings.length === 0) return [];
  return [
    '',
    pc.bold('learnings'),
    ...learnings.map(
      (l) =>
        `${l.version === null ? '  ' : `v${l.version}`}  ${l.recorded_at.slice(0, 16).replace('T', ' ')}  ${l.by ?? pc.dim('unknown')}: ${l.note}`,
    ),
  ];
}
