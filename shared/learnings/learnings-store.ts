import { randomUUID } from 'node:crypto';
import { COHORT_ID } from '../language/schema.ts';
import type { BlobStore } from '../ports.ts';
import { SNAPSHOTS_PREFIX } from '../bucket-layout.ts';

/** One note of the learnings library: what was learned from a refresh or an experiment. */
export interface Learning {
  readonly cohort: string;
  /** The version it is about; null for the cohort as a whole. */
  readonly version: number | null;
  readonly note: string;
  /** Who recorded it, when known. */
  readonly by: string | null;
  /** ISO-8601 UTC. */
  readonly recorded_at: string;
}

/** What {@link LearningsStore.record} did: stored the note, or found the same note already stored. */
export interface RecordedLearning {
  /** The note stored: the new one, or the one found when it was already recorded. */
  readonly learning: Learning;
  /** False when the same note (cohort, version, text and author) was already recorded: nothing was added. */
  readonly added: boolean;
}

/** A note that cannot be recorded: an empty note or a bad cohort id. */
export class InvalidLearningError extends Error {
  override readonly name = 'InvalidLearningError';
}

/** The longest note kept; a learning is a paragraph, not a document. */
export const MAX_NOTE_LENGTH = 4000;

const prefixOf = (cohort: string) => `${SNAPSHOTS_PREFIX}cohort=${cohort}/learnings/`;

/**
 * The learnings library, beside the snapshots: `snapshots/cohort=<id>/learnings/<time>-<id>.json`,
 * one object per note, each created once and never rewritten. Appending is therefore safe with
 * several writers on S3 too (no read-modify-write of a shared file), and the cohort_members table
 * never reads them (they are outside every `version=` folder). The same note recorded again
 * (cohort, version, text and author) is not added twice: a `cohorts learn` killed after its note was
 * stored and run again must leave one note, as an uninterrupted run does.
 */
export class LearningsStore {
  constructor(
    private readonly blobs: BlobStore,
    private readonly uniqueId: () => string = randomUUID,
  ) {}

  /** Records a note, unless the same note is already recorded; returns which. */
  async record(input: {
    readonly cohort: string;
    readonly version: number | null;
    readonly note: string;
    readonly by?: string | null;
    readonly at: Date;
  }): Promise<RecordedLearning> {
    if (!COHORT_ID.test(input.cohort)) throw new InvalidLearningError(`"${input.cohort}" is not a cohort id`);
    const note = input.note.trim();
    if (note === '')
      throw new InvalidLearningError('a learning needs a note: what was learned, e.g. "the drop follows the pricing change"');
    if (note.length > MAX_NOTE_LENGTH)
      throw new InvalidLearningError(`a note has at most ${MAX_NOTE_LENGTH} characters, got ${note.length}`);
    const by = input.by?.trim() || null;
    const same = (await this.list(input.cohort)).find((l) => l.version === input.version && l.note === note && l.by === by);
    if (same !== undefined) return { learning: same, added: false };
    const learning: Learning = { cohort: input.cohort, version: input.version, note, by, recorded_at: input.at.toISOString() };
    const stamp = learning.recorded_at.replace(/[-:.]/g, '');
    await this.blobs.create(`${prefixOf(input.cohort)}${stamp}-${this.uniqueId()}.json`, `${JSON.stringify(learning)}\n`);
    return { learning, added: true };
  }

  /** Every note of a cohort, oldest first. */
  async list(cohort: string): Promise<Learning[]> {
    if (!COHORT_ID.test(cohort)) return [];
    const keys = (await this.blobs.list(prefixOf(cohort))).filter((key) => key.endsWith('.json'));
    const notes = await Promise.all(keys.map(async (key) => this.blobs.get(key)));
    return notes
      .filter((bytes): bytes is Uint8Array => bytes !== undefined)
      .map((bytes) => JSON.parse(Buffer.from(bytes).toString('utf8')) as Learning)
      .sort((a, b) => (a.recorded_at < b.recorded_at ? -1 : a.recorded_at > b.recorded_at ? 1 : 0));
  }
}
