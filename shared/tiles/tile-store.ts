import type { TileExpiry } from './expiry.ts';
import type { CarryUse } from './carry-sql.ts';
import type { TileMeasure } from './measures.ts';

/**
 * Relations over stored tiles, for the tiled query (shared/tiles/tiled-refresh.ts). Each is a SQL
 * relation an engine adapter builds from validated locations.
 */
export interface TileRelations {
  /** Tile rows (TILE_COLUMNS of tile-sql.ts) with their `day` (YYYY-MM-DD). */
  readonly tiles: string;
  /** One `event_id` column: the ids whose valid copies lie on more than one UTC day. */
  readonly contestedIds: string;
  /** Every raw copy of the contested ids, with the lake's events columns. */
  readonly contestedEvents: string;
  /**
   * The population index of the tiles read (POPULATION_COLUMNS of population-sql.ts): the query
   * reads the population from it instead of every day's presence rows. Absent: from presence rows.
   */
  readonly population?: string;
  /**
   * Carried per-key partials of count uses (carry-sql.ts carryWideSql: one row per identity key, one column per use): the query reads the uses
   * `carriedKeys` names (carryKey) from it instead of their days' tile rows. Absent: from tile rows.
   */
  readonly carried?: string;
  readonly carriedKeys?: readonly string[];
  /**
   * Carried rows of all-history `latest` uses (carry-latest-sql.ts: one row per use and identity key, the use being its
   * place in `carriedLatestKeys`, carryKey): the query reads those uses from it instead of their days' tile rows.
   */
  readonly carriedLatest?: string;
  readonly carriedLatestKeys?: readonly string[];
}

/** Carried rows of one kind and the uses they hold (`carried`: a relation; `carriedKeys`: carryKey of each use, in order). */
export type CarriedRows = Required<Pick<TileRelations, 'carried' | 'carriedKeys'>>;

/** What {@link TileStore.carry} gives: the carried count partials and `latest` rows, each with the uses they hold. */
export type CarryRelations = Pick<TileRelations, 'carried' | 'carriedKeys' | 'carriedLatest' | 'carriedLatestKeys'>;

/**
 * What {@link TileStore.population} gives: the relation the tiled query reads the population from,
 * and the bytes bringing it up to date read where the engine reports them (Athena's INSERT).
 */
export type PopulationRelations = Required<Pick<TileRelations, 'population'>> & { readonly bytesScanned?: number };

/** What a refresh of the tiles did. */
export interface TileRefreshReport {
  /** Days that had no tile, now built (YYYY-MM-DD, sorted). */
  readonly built: readonly string[];
  /** Days whose tile was stale, now rebuilt, and why (`inputs`, `measures`, `contested`). */
  readonly rebuilt: readonly { readonly day: string; readonly reason: string }[];
  /** Days whose tile was fresh and is reused. */
  readonly fresh: number;
  /** Bytes the builds read, where the engine reports them (Athena: DataScannedInBytes added up). */
  readonly bytesScanned?: number;
}

/** What a query reads: tile days and raw `dt` partitions (YYYY-MM-DD). */
export interface TileReads {
  readonly days: readonly string[];
  readonly partitions: readonly string[];
}

/**
 * Where daily tiles live and how they are brought up to date (issue 14): a folder under the state
 * folder locally, the snapshots bucket and a Glue table in the cloud. The tiles step uses it;
 * adapters implement it in shared/local/ and shared/cloud/.
 */
export interface TileStore {
  /** Builds missing and stale tiles of `days` for `measures`; returns what it did. */
  refresh(request: {
    readonly measures: readonly TileMeasure[];
    readonly days: readonly string[];
    readonly runId: string;
    /**
     * Where the refresh starts reading single days and what it reads of the rollup
     * (shared/tiles/expiry.ts): a store that folded earlier days into its rollup builds them again
     * when the refresh needs one on its own or the rollup lacks what it reads. Absent: every day is
     * read on its own.
     */
    readonly expiry?: TileExpiry;
    /**
     * Someone is forgotten: the days built (and the contested copies) are marked unscreened until
     * {@link forgetForgotten} screens them, so a run stopped in between leaves them to the next.
     */
    readonly screen?: boolean;
  }): Promise<TileRefreshReport>;
  /**
   * Folds the stored days before `keepFrom` into the rollup tile and deletes them (expiry, issue
   * 14); returns the days expired. Called after a successful refresh, before `relations`. Absent:
   * the store keeps every day.
   */
  expire?(keepFrom: string): Promise<readonly string[]>;
  /** The first day not folded into the rollup tile (the rollup holds every day before it); undefined without a rollup. */
  rolledUpBefore?(): string | undefined;
  /** Relations over the stored tiles of `days` (for compileTiledRefresh). */
  relations(days: readonly string[]): TileRelations;
  /**
   * Brings the population index of the tiles of `days` (as `relations` reads them) up to date,
   * after the tiles were refreshed, screened and expired; returns a relation over it. Absent or
   * undefined: the query reads the presence rows of every day.
   */
  population?(days: readonly string[]): Promise<PopulationRelations | undefined>;
  /**
   * Brings the carried per-key partials of the count `uses` and the carried rows of the all-history `latest` uses
   * (`latest`) over the tiles of `days` up to date (after `population`); returns relations over them. Absent or
   * undefined: the query reads the tile rows of every day of every use.
   */
  carry?(days: readonly string[], uses: readonly CarryUse[], latest?: readonly CarryUse[]): Promise<CarryRelations | undefined>;
  /**
   * The measures of the sum `uses` whose tile days (of `days`) hold a fractional value, sorted:
   * they read raw, and the inexact-sums query need not ask about them. Absent: the query asks.
   */
  fractionalSums?(days: readonly string[], uses: readonly CarryUse[]): Promise<readonly string[]>;
  /**
   * Bytes of the files a query over `reads` would read (the tile files of its days and the lake's
   * files of its partitions), where the store can tell without running it (locally: file sizes).
   * Absent where unknown: Athena reports what it scanned instead.
   */
  bytesOf?(reads: TileReads): Promise<number>;
  /**
   * After a refresh built tiles from the lake, where forgotten people's events still are: drops the
   * rows of the persons `isForgotten` names (by the erasure records) from the tiles of `days` and
   * the contested copies; returns the files rewritten. The days an earlier refresh built with
   * `screen` and did not screen (it stopped in between) are screened too, then unmarked.
   */
  forgetForgotten(isForgotten: (personId: string) => boolean, days: readonly string[]): Promise<readonly string[]>;
}
