import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { QueryEngine } from '../ports.ts';
import type { TileExpiry } from '../tiles/expiry.ts';
import type { CarryRelations, PopulationRelations, TileReads, TileRefreshReport, TileRelations, TileStore } from '../tiles/tile-store.ts';
import type { TileMeasure } from '../tiles/measures.ts';
import type { CarryUse } from '../tiles/carry-sql.ts';
import { duckdbDialect } from '../compiler/duckdb-dialect.ts';
import { tilePersonsSql } from '../tiles/forget-sql.ts';
import { findLakeFiles, type LocalListedLake } from './lake-files.ts';
import type { LocalCarry } from './local-carry.ts';
import type { LocalFractional } from './local-fractional.ts';
import type { LocalPopulation } from './local-population.ts';
import type { LocalTileExpiry } from './local-tile-expiry.ts';
import type { LocalTileStore } from './local-tiles.ts';

/** Size of a file, 0 when it does not exist (a day without tile, no contested copies yet). */
const sizeOf = (file: string): Promise<number> =>
  stat(file).then(
    (info) => info.size,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return 0;
      throw error;
    },
  );

/** The engine LocalTiles reads the lake and its tiles with: its rows, and one listing of the lake at a time. */
export interface LocalLakeEngine extends Pick<QueryEngine, 'lake' | 'rows'> {
  listLake(): Promise<LocalListedLake>;
}

/** The tile store port over the state folder's tiles (LocalTileStore) and the lake folder DuckDB reads. */
export class LocalTiles implements TileStore {
  /** `expiry`: old days are folded into a rollup tile (absent: every day is kept). */
  constructor(
    private readonly store: LocalTileStore,
    private readonly engine: LocalLakeEngine,
    private readonly lakeDir: string,
    private readonly expiry?: LocalTileExpiry,
    private readonly populationIndex?: LocalPopulation,
    private readonly carried?: LocalCarry,
    private readonly fractional?: LocalFractional,
    private readonly carriedLatest?: LocalCarry,
  ) {}

  async refresh(request: {
    readonly measures: readonly TileMeasure[];
    readonly days: readonly string[];
    readonly expiry?: TileExpiry;
    readonly screen?: boolean;
  }): Promise<TileRefreshReport> {
    // One listing for the builds' relations and the fingerprints: a file landing in between (`cohorts ingest`
    // beside `cohorts watch`) would be named by a day's fingerprint without being read, and never read after.
    const { view: lake, files } = await this.engine.listLake();
    const screen = { screen: request.screen === true };
    const builder = {
      build: (days: readonly string[]) => this.store.refresh(request.measures, days, lake.relations, files, screen),
      fingerprints: (days: readonly string[]) => this.store.currentFingerprints(days, request.measures, files),
    };
    const statuses = this.expiry ? await this.expiry.refresh(request.days, request.expiry, builder) : await builder.build(request.days);
    const built: string[] = [];
    const rebuilt: { day: string; reason: string }[] = [];
    let fresh = 0;
    for (const [day, status] of [...statuses].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (status.status === 'missing') built.push(day);
      else if (status.status === 'stale') rebuilt.push({ day, reason: status.reason });
      else fresh += 1;
    }
    return { built, rebuilt, fresh };
  }

  /** Drops a person's identity keys from the tiles (erasure; see LocalTileStore.forget) and the population index built from them. */
  async forget(forms: readonly string[]): Promise<string[]> {
    await this.populationIndex?.drop();
    await this.carried?.drop();
    await this.carriedLatest?.drop();
    return this.store.forget(forms, async () => (await this.engine.lake()).relations.identities);
  }

  /** The population index of the visible tile files of `days` (LocalPopulation). */
  async population(days: readonly string[]): Promise<PopulationRelations | undefined> {
    return this.populationIndex?.relations(
      this.visible(days),
      (some) => this.store.relations(some).tiles,
      (day) => this.store.files([day])[0] as string,
    );
  }

  /** The carried partials of the count uses and rows of the all-history `latest` uses over the visible tile files of `days` (LocalCarry). */
  async carry(days: readonly string[], uses: readonly CarryUse[], latest: readonly CarryUse[] = []): Promise<CarryRelations | undefined> {
    const visible = this.visible(days);
    const tilesOf = (some: readonly string[]) => this.store.relations(some).tiles;
    const fileOf = (day: string) => this.store.files([day])[0] as string;
    const counts = await this.carried?.relations(uses, visible, tilesOf, fileOf);
    const latestRows = await this.carriedLatest?.relations(latest, visible, tilesOf, fileOf);
    if (counts === undefined && latestRows === undefined) return undefined;
    return { ...counts, ...(latestRows ? { carriedLatest: latestRows.carried, carriedLatestKeys: latestRows.carriedKeys } : {}) };
  }

  /** The sum measures with a fractional value in the visible tile files of their uses' days (LocalFractional). */
  async fractionalSums(days: readonly string[], uses: readonly CarryUse[]): Promise<readonly string[]> {
    if (!this.fractional) return [];
    return this.fractional.inexact(
      uses,
      this.visible(days),
      (some) => this.store.relations(some).tiles,
      (day) => this.store.files([day])[0] as string,
    );
  }

  /** Folds the days before `keepFrom` into the rollup tile (LocalTileExpiry); none without expiry. */
  async expire(keepFrom: string): Promise<readonly string[]> {
    return this.expiry ? this.expiry.expire(keepFrom) : [];
  }

  rolledUpBefore(): string | undefined {
    return this.expiry?.rolledUpBefore();
  }

  /**
   * Drops forgotten people from freshly built tiles (see TileStore.forgetForgotten): only the
   * tiles of `days`, of the days an earlier run built and did not screen (it stopped between), and
   * the contested copies are read and rewritten; then the mark of unscreened days goes. The
   * population index and the carried partials stay: they are brought up to date after this from
   * the screened tiles (their records name the tile files they read), so they never held these rows.
   */
  async forgetForgotten(isForgotten: (personId: string) => boolean, days: readonly string[]): Promise<string[]> {
    const screen = [...new Set([...days, ...((await this.store.unscreened()) ?? [])])].sort();
    const relations = this.store.relations(screen);
    const lake = await this.engine.lake();
    const identities = lake.relations.identities;
    const persons = await this.engine.rows(tilePersonsSql(duckdbDialect, relations.tiles, relations.contestedEvents, identities));
    const forgotten = persons.flatMap((row) => (typeof row.person_id === 'string' && isForgotten(row.person_id) ? [row.person_id] : []));
    const rewritten = forgotten.length === 0 ? [] : await this.store.forget(forgotten, async () => identities, screen);
    await this.store.screened();
    return rewritten;
  }

  relations(days: readonly string[]): TileRelations {
    return this.store.relations(this.visible(days));
  }

  /** The stored days a query over `days` reads: the rollup in place of the days folded into it. */
  private visible(days: readonly string[]): readonly string[] {
    return this.expiry ? this.expiry.visible(days) : days;
  }

  /** Sizes of the tile files of the days (with the contested copies) and of the lake files of the partitions. */
  async bytesOf(reads: TileReads): Promise<number> {
    const files = await findLakeFiles(this.lakeDir);
    const partitions = new Set(reads.partitions.map((d) => `dt=${d}`));
    const lakeFiles = [...files.events.parquet, ...files.events.jsonl].filter((f) => partitions.has(basename(dirname(f))));
    const sizes = await Promise.all([...this.store.files(this.visible(reads.days)), ...lakeFiles].map(sizeOf));
    return sizes.reduce((a, b) => a + b, 0);
  }
}
