import { readFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { duckdbDialect } from '../compiler/duckdb-dialect.ts';
import { stringLiteral } from '../compiler/sql-text.ts';
import { FOLD_BATCH_DAYS, foldedUnchanged, ROLLUP_DAY, type RollupContents, rollupUsable, type TileExpiry } from '../tiles/expiry.ts';
import { rollupSql } from '../tiles/expiry-sql.ts';
import { type TileFingerprint, type TileStatus, tileStatus } from '../tiles/fingerprint.ts';
import { TILE_COLUMNS } from '../tiles/tile-sql.ts';
import { fileWriteError } from './file-error.ts';
import { fileList } from './duckdb-lake.ts';
import { readJson, writeJsonAtomically } from './local-tiles.ts';
import { TILE_PARQUET_OPTIONS } from './tile-parquet.ts';

/**
 * What the rollup holds (`<state>/tiles/rollup.json`): every day before `until`, each as its
 * fingerprint said when it was folded. `folding`: a fold was under way (a run stopped in it leaves
 * the rollup unusable, and the next refresh builds those days again).
 */
interface RollupState extends RollupContents {
  readonly folding: boolean;
}

/** How a refresh brings tile days up to date (LocalTileStore.refresh over the lake) and what a day's fingerprint is now. */
export interface DayBuilder {
  build(days: readonly string[]): Promise<Map<string, TileStatus>>;
  fingerprints(days: readonly string[]): Promise<TileFingerprint[]>;
}

/**
 * Expiry of the local tiles (issue 14): the days before the first day a refresh reads one by one
 * are folded into the rollup tile `<state>/tiles/day=0000-01-01/tiles.parquet` (shared/tiles/expiry.ts),
 * their folders deleted, their fingerprints kept in `rollup.json`. A refresh checks the folded days
 * as it checks the others: when one of them changed (a late file, a backfill, a contested id, a new
 * measure), the lake's days changed, or the refresh needs a folded day on its own (an earlier as-of,
 * a wider window), the rollup is dropped and its days are built again from the lake, then folded
 * again. The index of counted ids is never expired: an old day's ids decide whether a later copy is
 * contested, exactly as the full computation's de-duplication over all history does.
 */
export class LocalTileExpiry {
  private readonly root: string;

  /** `batchDays`: days are folded once at least this many expired. */
  constructor(
    private readonly connection: DuckDBConnection,
    stateDir: string,
    private readonly batchDays = FOLD_BATCH_DAYS,
  ) {
    this.root = join(stateDir, 'tiles');
  }

  private get stateFile(): string {
    return join(this.root, 'rollup.json');
  }

  private dayDir(day: string): string {
    return join(this.root, `day=${day}`);
  }

  /**
   * Brings the tiles of `days` up to date for a refresh that reads single days from `expiry.keepFrom`:
   * the days after the rollup through `builder`, the folded ones by their fingerprints (any change
   * drops the rollup and builds them again). Returns every day's status before the refresh.
   */
  async refresh(days: readonly string[], expiry: TileExpiry | undefined, builder: DayBuilder): Promise<Map<string, TileStatus>> {
    const state = await this.load();
    if (state === undefined) return builder.build(days);
    if (state.folding || !rollupUsable(state, expiry)) {
      await this.drop();
      return builder.build(days);
    }
    const folded = days.filter((day) => day < state.until);
    const statuses = await builder.build(days.filter((day) => day >= state.until));
    const now = await builder.fingerprints(folded);
    if (foldedUnchanged(state, now, expiry)) {
      for (const day of folded) statuses.set(day, { status: 'fresh' });
      return statuses;
    }
    await this.drop();
    const stored = new Map(state.fingerprints.map((f) => [f.day, f]));
    const rebuilt = await builder.build(folded);
    // A folded day is reported by why it changed, or as built when it is built again for another day's change.
    for (const f of now) {
      const status = tileStatus(stored.get(f.day), { ...f, measures: [...expiry.rollupMeasures] });
      statuses.set(f.day, status.status === 'fresh' ? (rebuilt.get(f.day) ?? status) : status);
    }
    return statuses;
  }

  /**
   * Folds every stored day before `keepFrom` into the rollup and deletes its folder, once at least
   * `batchDays` of them expired; returns the days expired. The fold is marked in rollup.json first and committed by it last, so a run
   * stopped half-way never double counts a day.
   */
  async expire(keepFrom: string): Promise<string[]> {
    const state = await this.load();
    const stored = await this.storedDays();
    // Days already folded whose folders a stopped run left behind.
    for (const day of stored.filter((d) => state !== undefined && d < state.until)) await this.removeDay(day);
    const expiring = stored.filter((day) => day < keepFrom && (state === undefined || day >= state.until));
    if (expiring.length === 0 || expiring.length < this.batchDays) return [];
    const fingerprints = await Promise.all(
      expiring.map(async (day) => (await readJson<TileFingerprint>(join(this.dayDir(day), 'fingerprint.json'))) as TileFingerprint),
    );
    const before = state?.fingerprints ?? [];
    await this.save({ until: state?.until ?? keepFrom, folding: true, fingerprints: before });
    const rollupFile = join(this.dayDir(ROLLUP_DAY), 'tiles.parquet');
    const files = [...(state === undefined ? [] : [rollupFile]), ...expiring.map((day) => join(this.dayDir(day), 'tiles.parquet'))];
    const rows = `(SELECT ${TILE_COLUMNS.join(', ')} FROM read_parquet(${fileList(files)}, hive_partitioning = false))`;
    await mkdir(this.dayDir(ROLLUP_DAY), { recursive: true });
    const tmp = join(this.dayDir(ROLLUP_DAY), '.tmp-tiles.parquet');
    try {
      await this.connection.run(`COPY (${rollupSql(duckdbDialect, rows)}) TO ${stringLiteral(tmp)} (${TILE_PARQUET_OPTIONS})`);
      await rename(tmp, rollupFile);
    } catch (error) {
      throw fileWriteError(error, rollupFile, this.root);
    }
    await this.save({
      until: keepFrom,
      folding: false,
      fingerprints: [...before, ...fingerprints].sort((a, b) => (a.day < b.day ? -1 : 1)),
    });
    for (const day of expiring) await this.removeDay(day);
    return expiring;
  }

  /** The days a query over `days` reads: the rollup instead of the days folded into it. */
  visible(days: readonly string[]): string[] {
    const state = this.loadNow();
    if (state === undefined || state.folding) return [...days];
    return [ROLLUP_DAY, ...days.filter((day) => day >= state.until)];
  }

  /** The first day not folded into the rollup; undefined without a usable rollup. */
  rolledUpBefore(): string | undefined {
    const state = this.loadNow();
    return state === undefined || state.folding ? undefined : state.until;
  }

  /** Forgets the rollup: its tile and state (the folded days are built again by the caller). */
  private async drop(): Promise<void> {
    await rm(this.stateFile, { force: true });
    await this.removeDay(ROLLUP_DAY);
  }

  private async removeDay(day: string): Promise<void> {
    await rm(this.dayDir(day), { recursive: true, force: true });
  }

  /** The real days with a stored tile (a fingerprint), sorted. */
  private async storedDays(): Promise<string[]> {
    const names = await readdir(this.root).catch(() => [] as string[]);
    const days = names.filter((n) => n.startsWith('day=') && n !== `day=${ROLLUP_DAY}`).map((n) => n.slice(4));
    const stored = await Promise.all(
      days.map(async (day) =>
        stat(join(this.dayDir(day), 'fingerprint.json')).then(
          () => [day],
          () => [],
        ),
      ),
    );
    return stored.flat().sort();
  }

  private load(): Promise<RollupState | undefined> {
    return readJson<RollupState>(this.stateFile);
  }

  /** The rollup state, read synchronously (relations are built without awaiting). */
  private loadNow(): RollupState | undefined {
    try {
      return JSON.parse(readFileSync(this.stateFile, 'utf8')) as RollupState;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  private save(state: RollupState): Promise<void> {
    return writeJsonAtomically(this.stateFile, state);
  }
}
