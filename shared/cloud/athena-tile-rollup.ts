import type { S3Client } from '@aws-sdk/client-s3';
import { stringLiteral } from '../compiler/sql-text.ts';
import { TILE_DAYS_PREFIX, TILE_FINGERPRINTS_PREFIX, TILES_PREFIX } from '../bucket-layout.ts';
import { FOLD_BATCH_DAYS, foldedUnchanged, ROLLUP_DAY, type RollupContents, rollupUsable, type TileExpiry } from '../tiles/expiry.ts';
import type { TileFingerprint } from '../tiles/fingerprint.ts';
import { deleteObjects, objectsUnder } from './s3-prefix.ts';
import type { S3BlobStore } from './s3-blob-store.ts';

/**
 * The two `day` partitions of the `tiles` table that hold the rollup, in turn: the first days of
 * the table's date projection (lake-manifests.ts DT_PROJECTION_RANGE), which no lake day reaches
 * in practice. A refresh whose days reach them keeps every day (no rollup).
 */
export const ROLLUP_SLOTS = ['1583-01-01', '1583-01-02'] as const;
type Slot = (typeof ROLLUP_SLOTS)[number];

/** Where the rollup's state lives in the snapshots bucket. */
export const ROLLUP_STATE_KEY = `${TILES_PREFIX}rollup.json`;

/** The rollup's state: which slot holds it, and the days folded into it. */
interface RollupState extends RollupContents {
  readonly slot: Slot;
}

/** What the rollup needs of the Athena tile store. */
export interface RollupPorts {
  readonly s3: S3Client;
  readonly bucket: string;
  /** The bucket's JSON objects (the fingerprints' store). */
  readonly blobs: S3BlobStore;
  /** Runs a statement of the refresh (its scanned bytes counted). */
  readonly run: (sql: string) => Promise<void>;
  /** `INSERT INTO tiles` of the rows of `sql` (tile columns and `day`, instants as instants) into the partition `day`. */
  readonly insertTiles: (sql: string, day: string) => string;
  /** The stored tile rows of `days` (readSelect of the table), without `day`. */
  readonly tileRows: (days: readonly string[]) => string;
  /** The rollup rows of `rows` (rollupSql in the Athena dialect). */
  readonly fold: (rows: string) => string;
  readonly fingerprintKey: (day: string) => string;
  /** Days are folded once at least this many expired. @default FOLD_BATCH_DAYS */
  readonly batchDays?: number;
}

/**
 * Expiry in the snapshots bucket (issue 14; the local twin is shared/local/local-tile-expiry.ts):
 * the days a refresh no longer reads one by one are folded by Athena into the rollup, an `INSERT
 * INTO tiles` of one `day` partition, the slot the rollup does not occupy now; `tiles/rollup.json`
 * then names the new slot and the folded days' fingerprints (the commit); then the old slot's
 * files, the folded days' fingerprints and their files are deleted (batched DeleteObjects). A run
 * stopped before the commit leaves the old rollup in force (the new slot is emptied before the
 * next fold); after it, leftover days are deleted by the next fold.
 */
export class AthenaTileRollup {
  private state: RollupState | undefined;
  private loaded = false;

  constructor(private readonly ports: RollupPorts) {}

  /**
   * The days of `days` to check and build one by one; the others are served by the rollup. The
   * rollup is dropped first when the refresh reads a folded day on its own, when its days reach the
   * slots, or when a folded day changed (`current`: a day's fingerprint now); its days are then built.
   */
  async daysToBuild(days: readonly string[], expiry: TileExpiry | undefined, current: (day: string) => TileFingerprint): Promise<string[]> {
    const state = await this.load();
    if (state === undefined) return [...days];
    const folded = days.filter((day) => day < state.until);
    const reachesSlots = days.some((day) => day <= ROLLUP_SLOTS[1]);
    if (!reachesSlots && rollupUsable(state, expiry) && foldedUnchanged(state, folded.map(current), expiry)) {
      return days.filter((day) => day >= state.until);
    }
    await this.drop(state);
    return [...days];
  }

  /**
   * Folds the built days of `days` before `keepFrom` into the rollup and deletes them, once at
   * least `batchDays` of them expired; returns the days expired. Fingerprints of the days folded come from `fingerprints`.
   */
  async expire(
    days: readonly string[],
    keepFrom: string,
    fingerprint: (day: string) => Promise<TileFingerprint | undefined>,
  ): Promise<string[]> {
    if (days.some((day) => day <= ROLLUP_SLOTS[1])) return [];
    const state = await this.load();
    const candidates = days.filter((day) => day < keepFrom && (state === undefined || day >= state.until));
    const found = await Promise.all(candidates.map(async (day) => ({ day, fingerprint: await fingerprint(day) })));
    const expiring = found.flatMap((f) => (f.fingerprint === undefined ? [] : [f.fingerprint]));
    const leftovers = await this.storedDaysBefore(state?.until);
    if (expiring.length === 0 || expiring.length < (this.ports.batchDays ?? FOLD_BATCH_DAYS)) {
      await this.remove(leftovers);
      return [];
    }
    const slot: Slot = state?.slot === ROLLUP_SLOTS[0] ? ROLLUP_SLOTS[1] : ROLLUP_SLOTS[0];
    await this.removeFiles([slot]);
    const rows = this.ports.tileRows([...(state === undefined ? [] : [state.slot]), ...expiring.map((f) => f.day)]);
    await this.ports.run(
      this.ports.insertTiles(`SELECT folded.*, ${stringLiteral(slot)} AS day FROM (${this.ports.fold(rows)}) AS folded`, slot),
    );
    const next: RollupState = {
      slot,
      until: keepFrom,
      fingerprints: [...(state?.fingerprints ?? []), ...expiring].sort((a, b) => (a.day < b.day ? -1 : 1)),
    };
    await this.ports.blobs.put(ROLLUP_STATE_KEY, `${JSON.stringify(next, null, 2)}\n`);
    this.state = next;
    await this.remove([...new Set([...leftovers, ...expiring.map((f) => f.day)])], state?.slot);
    return expiring.map((f) => f.day);
  }

  /** The days a query over `days` reads, the rollup's slot as {@link ROLLUP_DAY}; and that slot. */
  visible(days: readonly string[]): { days: string[]; slot?: string } {
    const state = this.state;
    if (state === undefined) return { days: [...days] };
    return { days: [ROLLUP_DAY, ...days.filter((day) => day >= state.until)], slot: state.slot };
  }

  /** The first day not folded into the rollup; undefined without one. */
  rolledUpBefore(): string | undefined {
    return this.state?.until;
  }

  /**
   * Erasure deleted the rollup (AthenaTileStore.forget: its state, then its slot): what was loaded
   * of it is forgotten too, so a later refresh of the same store builds its days again rather than
   * serving them from a slot that is gone.
   */
  dropped(): void {
    this.state = undefined;
    this.loaded = true;
  }

  private async load(): Promise<RollupState | undefined> {
    if (!this.loaded) {
      const bytes = await this.ports.blobs.get(ROLLUP_STATE_KEY);
      this.state = bytes === undefined ? undefined : (JSON.parse(new TextDecoder().decode(bytes)) as RollupState);
      this.loaded = true;
    }
    return this.state;
  }

  /** Forgets the rollup: the folded days' fingerprints first (a fingerprint never outlives its files), then its state and slot. */
  private async drop(state: RollupState): Promise<void> {
    await this.remove(
      state.fingerprints.map((f) => f.day),
      state.slot,
    );
    await deleteObjects(this.ports.s3, this.ports.bucket, [ROLLUP_STATE_KEY], 'the tile rollup state');
    this.state = undefined;
  }

  /** Deletes the fingerprints of `days`, then their files and those of `slot` (batched DeleteObjects over one listing). */
  private async remove(days: readonly string[], slot?: string): Promise<void> {
    const keys = days.map(this.ports.fingerprintKey);
    for (let i = 0; i < keys.length; i += 1000)
      await deleteObjects(this.ports.s3, this.ports.bucket, keys.slice(i, i + 1000), 'expired tile fingerprints');
    await this.removeFiles([...days, ...(slot === undefined ? [] : [slot])]);
  }

  /** Deletes every file of the `day` partitions `days`. */
  private async removeFiles(days: readonly string[]): Promise<void> {
    if (days.length === 0) return;
    const prefixes = new Set(days.map((day) => `${TILE_DAYS_PREFIX}day=${day}/`));
    for await (const page of objectsUnder(this.ports.s3, this.ports.bucket, TILE_DAYS_PREFIX)) {
      const keys = page.filter((o) => prefixes.has(o.key.slice(0, o.key.lastIndexOf('/') + 1))).map((o) => o.key);
      await deleteObjects(this.ports.s3, this.ports.bucket, keys, 'expired tile days');
    }
  }

  /** Real days before `until` that still have a fingerprint (a stopped fold's leftovers). */
  private async storedDaysBefore(until: string | undefined): Promise<string[]> {
    if (until === undefined) return [];
    const days: string[] = [];
    for await (const page of objectsUnder(this.ports.s3, this.ports.bucket, TILE_FINGERPRINTS_PREFIX)) {
      for (const o of page) {
        const day = o.key.slice(TILE_FINGERPRINTS_PREFIX.length).replace(/\.json$/, '');
        if (day < until) days.push(day);
      }
    }
    return days;
  }
}
