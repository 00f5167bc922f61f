import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { LakeRelations } from '../compiler/compile-refresh.ts';
import { duckdbDialect } from '../compiler/duckdb-dialect.ts';
import { identifier, stringLiteral } from '../compiler/sql-text.ts';
import { type InputFile, type TileFingerprint, type TileStatus, tilePartitions, tileStatus } from '../tiles/fingerprint.ts';
import type { TileMeasure } from '../tiles/measures.ts';
import type { TileRelations } from '../tiles/tile-store.ts';
import { contestedCopiesSql, contestedDaysSql, dayTilesSql, noTilesSql, TILE_COLUMNS } from '../tiles/tile-sql.ts';
import { fileList } from './duckdb-lake.ts';
import type { LakeFiles } from './lake-files.ts';

let buildCounter = 0;

/** Relations over the stored tiles: the tile store port's TileRelations (the old name, kept for callers). */
export type StoredTiles = TileRelations;

/**
 * Daily tiles under `<state>/tiles/` (issue 14; not yet read by `cohorts run`): one Parquet file and
 * one fingerprint per day, `day=YYYY-MM-DD/tiles.parquet` and `fingerprint.json` (written last:
 * it makes the tile exist), and `contested.parquet`, every raw copy of the event ids whose valid
 * copies lie on more than one day.
 */
export class LocalTileStore {
  private readonly root: string;

  constructor(
    private readonly connection: DuckDBConnection,
    stateDir: string,
  ) {
    this.root = join(stateDir, 'tiles');
  }

  private dayDir(day: string): string {
    return join(this.root, `day=${day}`);
  }

  private get contestedFile(): string {
    return join(this.root, 'contested.parquet');
  }

  /**
   * Builds the tiles of `days` that are missing or stale for `measures`, after refreshing the
   * contested copies; returns each day's status before the build.
   */
  async refresh(
    measures: readonly TileMeasure[],
    days: readonly string[],
    lake: LakeRelations,
    files: LakeFiles,
  ): Promise<Map<string, TileStatus>> {
    await mkdir(this.root, { recursive: true });
    const contestedDays = await this.refreshContested(lake);
    const ids = measures.map((m) => m.id).sort();
    const statuses = new Map<string, TileStatus>();
    const stale: TileFingerprint[] = [];
    for (const day of days) {
      const current: TileFingerprint = {
        day,
        inputs: await inputsOf(files, day),
        measures: ids,
        contested: digest(contestedDays.get(day) ?? []),
      };
      const status = tileStatus(await this.fingerprint(day), current);
      statuses.set(day, status);
      if (status.status !== 'fresh') stale.push(current);
    }
    if (stale.length > 0) await this.build(stale, measures, lake);
    return statuses;
  }

  /** The stored fingerprint of a day, if its tile exists. */
  async fingerprint(day: string): Promise<TileFingerprint | undefined> {
    try {
      return JSON.parse(await readFile(join(this.dayDir(day), 'fingerprint.json'), 'utf8')) as TileFingerprint;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** The files a query over the tiles of `days` reads: each day's tile and the contested copies. */
  files(days: readonly string[]): string[] {
    return [...days.map((day) => join(this.dayDir(day), 'tiles.parquet')), this.contestedFile];
  }

  /** Relations over the tiles of `days` (each built; none: an empty relation) and the contested copies. */
  relations(days: readonly string[]): StoredTiles {
    const files = days.map((day) => join(this.dayDir(day), 'tiles.parquet'));
    const contested = `read_parquet(${stringLiteral(this.contestedFile)}, hive_partitioning = false)`;
    return {
      tiles:
        files.length === 0
          ? noTilesSql(duckdbDialect)
          : `read_parquet(${fileList(files)}, hive_partitioning = true, hive_types = {'day': VARCHAR})`,
      contestedIds: `(SELECT DISTINCT event_id FROM ${contested} AS contested_copies)`,
      contestedEvents: contested,
    };
  }

  /** Rewrites contested.parquet; returns the contested ids that have a valid copy on each day. */
  private async refreshContested(lake: LakeRelations): Promise<Map<string, string[]>> {
    const days = contestedDaysSql(duckdbDialect, lake.events);
    const rows = (await this.connection.runAndReadAll(`${days}\nORDER BY day, event_id`)).getRows();
    const byDay = new Map<string, string[]>();
    for (const [id, day] of rows) byDay.set(String(day), [...(byDay.get(String(day)) ?? []), String(id)]);
    await this.copy(contestedCopiesSql(lake.events, `(${days}) AS contested_days`), this.contestedFile);
    return byDay;
  }

  /**
   * Builds the tiles of several days in one pass over their partitions (a day at a time would
   * repeat the per-query work for every day), kept in a temporary table and written day by day;
   * each fingerprint is written after its day's file.
   */
  private async build(days: readonly TileFingerprint[], measures: readonly TileMeasure[], lake: LakeRelations): Promise<void> {
    const sql = dayTilesSql({
      measures,
      dialect: duckdbDialect,
      events: lake.events,
      days: days.map((f) => f.day),
      contested: this.relations([]).contestedIds,
    });
    const table = identifier(`tiles_build_${++buildCounter}`);
    const wanted = days.map((f) => stringLiteral(f.day)).join(', ');
    await this.connection.run(`CREATE TEMP TABLE ${table} AS SELECT * FROM (${sql}) AS built WHERE day IN (${wanted})`);
    try {
      for (const fingerprint of days) {
        const dir = this.dayDir(fingerprint.day);
        await mkdir(dir, { recursive: true });
        await this.copy(
          `SELECT ${TILE_COLUMNS.join(', ')} FROM ${table} WHERE day = ${stringLiteral(fingerprint.day)}`,
          join(dir, 'tiles.parquet'),
        );
        const tmp = join(dir, '.tmp-fingerprint.json');
        await writeFile(tmp, `${JSON.stringify(fingerprint, null, 2)}\n`);
        await rename(tmp, join(dir, 'fingerprint.json'));
      }
    } finally {
      await this.connection.run(`DROP TABLE IF EXISTS ${table}`);
    }
  }

  /** Writes a query's rows to a Parquet file under a temporary name, then renames it into place. */
  private async copy(sql: string, file: string): Promise<void> {
    const tmp = join(file, '..', `.tmp-${file.split(sep).pop() ?? 'tiles'}`);
    await this.connection.run(`COPY (${sql}) TO ${stringLiteral(tmp)} (FORMAT parquet)`);
    await rename(tmp, file);
  }
}

/** Every events file of the partitions a day's tile reads, with size and modification time. */
async function inputsOf(files: LakeFiles, day: string): Promise<InputFile[]> {
  const partitions = new Set(tilePartitions(day).map((d) => `dt=${d}`));
  const eventsDir = join(files.root, 'events');
  const inputs: InputFile[] = [];
  for (const file of [...files.events.parquet, ...files.events.jsonl]) {
    const path = relative(eventsDir, file).split(sep).join('/');
    if (!partitions.has(path.split('/')[0] ?? '')) continue;
    const info = await stat(file);
    inputs.push({ path, size: info.size, version: info.mtime.toISOString() });
  }
  return inputs.sort((a, b) => (a.path < b.path ? -1 : 1));
}

const digest = (ids: readonly string[]) =>
  createHash('sha256')
    .update(JSON.stringify([...ids].sort()))
    .digest('hex');
