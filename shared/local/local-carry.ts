import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { stringLiteral } from '../compiler/sql-text.ts';
import { carryLatestSql, latestMovable } from '../tiles/carry-latest-sql.ts';
import { type CarryColumn, type CarryMove, type CarryTiles, type CarryUse, carryKey, carryWideSql } from '../tiles/carry-sql.ts';
import { type InputFile, sameInputs } from '../tiles/fingerprint.ts';
import type { CarriedRows } from '../tiles/tile-store.ts';
import { fileWriteError } from './file-error.ts';
import { inputsOf } from './local-population.ts';
import { readJson, writeJsonAtomically } from './local-tiles.ts';
import { oneThread } from './one-thread.ts';
import { CARRIED_COUNTS_PARQUET_OPTIONS, TILE_PARQUET_OPTIONS } from './tile-parquet.ts';

let copyCounter = 0;

/** What the carried partials were computed from: their uses and the tile files of the days they cover. */
interface Carried {
  /** `wide` (one column per use) or `latest`; carried partials of an earlier layout (one row per use and key) are computed again. */
  readonly layout: 'wide' | 'latest';
  readonly uses: readonly CarryUse[];
  /** The tile files (path: the day) of every day inside a use's range, as they were. */
  readonly inputs: readonly InputFile[];
}

const inRange = (use: CarryUse) => (f: InputFile) => f.path >= use.first && f.path < use.end;

/** What is carried: the files' name and layout, which carried use may move to a use, and the SQL of the moved rows. */
export interface CarryKind {
  readonly name: 'partials' | 'latest';
  readonly layout: Carried['layout'];
  readonly movable: (old: CarryUse, use: CarryUse) => boolean;
  readonly sql: (carried: string | undefined, tiles: CarryTiles | undefined, columns: readonly CarryColumn[]) => string;
  /** The COPY options of the carried file. */
  readonly parquetOptions: string;
}

/** The count uses' partials (carryWideSql): a use moves forward from one whose range it overlaps, adding and subtracting days. */
export const CARRIED_COUNTS: CarryKind = {
  name: 'partials',
  layout: 'wide',
  movable: (old, use) => old.measure === use.measure && old.first <= use.first && use.first <= old.end && old.end <= use.end,
  sql: carryWideSql,
  parquetOptions: CARRIED_COUNTS_PARQUET_OPTIONS,
};

/** The all-history `latest` uses' rows per key (carryLatestSql): a use moves forward by the days entering, never losing one. */
export const CARRIED_LATEST: CarryKind = {
  name: 'latest',
  layout: 'latest',
  movable: latestMovable,
  sql: carryLatestSql,
  parquetOptions: TILE_PARQUET_OPTIONS,
};

/**
 * The carried per-key partials of the count uses (issue 14): `<state>/tiles/partials/partials.parquet`
 * (carry-sql.ts carryWideSql: one row per identity key, one column per use) with `partials.json`, the uses and the tile files they were added up
 * from (removed before the file is rewritten, written after). A refresh whose use moved forward by
 * some days adds the tiles of the days entering and subtracts those leaving; a use is computed from
 * its tiles again when a tile file of its old range changed (late data, a backfill, a day rebuilt
 * for new measures or contested ids, screened, folded into the rollup), when it is new (a new or
 * changed definition gives a new measure id) or moved backward. Keyed by identity key, not person,
 * so the identity map (applied when read) never invalidates it. Erasure removes it ({@link drop}).
 * With {@link CARRIED_LATEST}, the same for the all-history `latest` uses: `latest.parquet` and `latest.json`
 * (carry-latest-sql.ts), moved only by the days entering, under the same rule for computing them again.
 */
export class LocalCarry {
  private readonly root: string;
  /** What the last {@link relations} did: the uses moved forward from their carried rows and those computed from tiles (carryKey). */
  last: { readonly moved: readonly string[]; readonly fresh: readonly string[] } = { moved: [], fresh: [] };

  constructor(
    private readonly connection: DuckDBConnection,
    stateDir: string,
    private readonly kind: CarryKind = CARRIED_COUNTS,
  ) {
    this.root = join(stateDir, 'tiles', 'partials');
  }

  private file(name: string): string {
    return join(this.root, name);
  }

  /** Removes the carried partials (erasure): the next refresh computes them from the screened tiles. */
  async drop(): Promise<void> {
    for (const name of [`${this.kind.name}.json`, `${this.kind.name}.parquet`]) await rm(this.file(name), { force: true });
  }

  private relation(): string {
    return `read_parquet(${stringLiteral(this.file(`${this.kind.name}.parquet`))}, hive_partitioning = false)`;
  }

  /**
   * Brings the carried partials of `uses` up to date over the tile files of `days` (`tilesOf`: their
   * tile rows; `fileOf`: a day's file) and returns a relation over them; undefined without uses.
   */
  async relations(
    uses: readonly CarryUse[],
    days: readonly string[],
    tilesOf: (days: readonly string[]) => string,
    fileOf: (day: string) => string,
  ): Promise<CarriedRows | undefined> {
    this.last = { moved: [], fresh: [] };
    if (uses.length === 0) return undefined;
    const current = await inputsOf(days.map((day) => ({ path: day, file: fileOf(day) })));
    const kept = await readJson<Carried>(this.file(`${this.kind.name}.json`));
    const made = kept?.layout === this.kind.layout ? kept : undefined;
    const moves: (CarryMove & { index: number })[] = [];
    const fresh: CarryUse[] = [];
    const daysIn = (first: string, end: string) => days.filter((day) => day >= first && day < end).length;
    for (const use of uses) {
      // The carried use whose move reads the fewest tile days (entering and leaving), if fewer than the use's own.
      let best: { from: CarryUse; index: number; cost: number } | undefined;
      for (const [index, old] of (made?.uses ?? []).entries()) {
        if (!this.kind.movable(old, use) || !sameInputs((made as Carried).inputs.filter(inRange(old)), current.filter(inRange(old))))
          continue;
        const cost = daysIn(old.first, use.first) + daysIn(old.end, use.end);
        if (best === undefined || cost < best.cost) best = { from: old, index, cost };
      }
      if (best && best.cost < Math.max(daysIn(use.first, use.end), 1)) moves.push({ from: best.from, to: use, index: best.index });
      else fresh.push(use);
    }
    const keys = uses.map(carryKey);
    this.last = { moved: moves.filter((m) => carryKey(m.from) !== carryKey(m.to)).map((m) => carryKey(m.to)), fresh: fresh.map(carryKey) };
    // Unchanged: every column is the carried column of the same place, not moved.
    const unchanged =
      fresh.length === 0 && made?.uses.length === uses.length && moves.every((m, i) => m.index === i && carryKey(m.from) === keys[i]);
    if (!unchanged) {
      const columns = uses.map((use): CarryColumn => {
        const move = moves.find((m) => m.to === use);
        if (!move) return { add: use };
        const { from, index } = move;
        return {
          from: index,
          ...(from.end < use.end ? { add: { measure: use.measure, first: from.end, end: use.end } } : {}),
          ...(from.first < use.first ? { subtract: { measure: use.measure, first: from.first, end: use.first } } : {}),
        };
      });
      // Only the days entering or leaving a moved use, and the days of the uses computed, are read from tiles
      // (a leaving day is unchanged: it lies in the old range).
      const read = days.filter((day) =>
        columns.some((c) => [c.add, c.subtract].some((r) => r !== undefined && day >= r.first && day < r.end)),
      );
      const sql = this.kind.sql(
        moves.length > 0 ? this.relation() : undefined,
        read.length > 0 ? { relation: tilesOf(read), days: read } : undefined,
        columns,
      );
      await this.write(sql, { layout: this.kind.layout, uses, inputs: current });
    }
    return { carried: this.relation(), carriedKeys: keys };
  }

  /** Writes partials.parquet from a query (under a temporary name, then renamed), described by partials.json after. */
  private async write(sql: string, made: Carried): Promise<void> {
    const tmp = this.file(`.tmp-${this.kind.name}-${process.pid}-${++copyCounter}.parquet`);
    await mkdir(this.root, { recursive: true });
    try {
      // One thread: the move's hash aggregates and join split over two threads cost more CPU than they save in wall
      // time ((d) at 10M events: 2.1 s CPU in place of 2.8; bench/RESULTS.md, How tiles work, carried partials).
      await oneThread(this.connection, () => this.connection.run(`COPY (${sql}) TO ${stringLiteral(tmp)} (${this.kind.parquetOptions})`));
      await rm(this.file(`${this.kind.name}.json`), { force: true });
      await rename(tmp, this.file(`${this.kind.name}.parquet`));
      await writeJsonAtomically(this.file(`${this.kind.name}.json`), made);
    } catch (error) {
      throw fileWriteError(error, this.file(`${this.kind.name}.parquet`), this.root);
    } finally {
      await rm(tmp, { force: true });
    }
  }
}
