import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { LakeRelations } from '../compiler/compile-refresh.ts';
import { duckdbDialect } from '../compiler/duckdb-dialect.ts';
import { identifier, stringLiteral } from '../compiler/sql-text.ts';
import type { ProgressListener } from '../ports.ts';
import { dayBatches } from '../tiles/day-batches.ts';
import { dayTilesSql } from '../tiles/day-tiles-sql.ts';
import {
  addedInputs,
  type InputFile,
  sameInputs,
  type TileFingerprint,
  type TileStatus,
  tilePartitions,
  tileStatus,
} from '../tiles/fingerprint.ts';
import { eventRowsKeptSql, tileRowsKeptSql } from '../tiles/forget-sql.ts';
import { contestedFromIndexSql, hashedDayIdsSql, idHashSql, sharedHashRowsSql } from '../tiles/id-index-sql.ts';
import type { TileMeasure } from '../tiles/measures.ts';
import type { TileRelations } from '../tiles/tile-store.ts';
import { contestedCopiesSql, noTilesSql, TILE_COLUMNS } from '../tiles/tile-sql.ts';
import { validDaysSql } from '../tiles/valid-days-sql.ts';
import { markAdding, markedDays } from '../tiles/unscreened-mark.ts';
import { duckdbLakeRelations, fileList } from './duckdb-lake.ts';
import { fileWriteError } from './file-error.ts';
import type { LakeFiles } from './lake-files.ts';
import { oneThread } from './one-thread.ts';
import { readParquetSchemas } from './parquet-columns.ts';
import { TILE_DAY_ORDER, TILE_DAY_ROW_GROUP_SIZE, TILE_PARQUET_OPTIONS } from './tile-parquet.ts';

let buildCounter = 0;

/** The layout of the index files: `hashed`, each id with its hash `h` (id-index-sql.ts idHashSql); days of another layout are indexed again. */
const INDEX_LAYOUT = 'hashed';

/**
 * The most lake bytes (events files of the partitions a batch of days reads) one build query
 * reads: the stale days are built in batches of consecutive days within it, each one query and one
 * COPY, so that a cold build's memory stays bounded whatever the lake's size. Measured on the
 * 10M-event bench lake (91 days, 3.5 MB a partition; bench/tiles-build-bench.ts, load ~5): one
 * batch 442 s wall, 238 s CPU, peak RSS 2027 MB (the COPY spilling); 64 MiB (6 batches) 160 s,
 * 118 s CPU, 1912 MB; 32 MiB (13 batches) 163 s, 127 s CPU, 1220 MB; 16 MiB (44 batches) 249 s,
 * 172 s CPU, 1158 MB.
 */
export const BUILD_BATCH_BYTES = 32 * 1024 * 1024;

/** How a {@link LocalTileStore} builds. */
export interface LocalTileStoreOptions {
  /** The most lake bytes one build query reads. @default {@link BUILD_BATCH_BYTES} */
  readonly batchBytes?: number;
  /** Told after each batch of tile days built, when a build takes more than one: the step, the days built so far, the days to build. */
  readonly onProgress?: ProgressListener;
}

/** Relations over the stored tiles: the tile store port's TileRelations (the old name, kept for callers). */
export type StoredTiles = TileRelations;

/**
 * Daily tiles under `<state>/tiles/`: one Parquet file and one fingerprint per day,
 * `day=YYYY-MM-DD/tiles.parquet` and `fingerprint.json` (written last: it makes the tile exist);
 * the index of counted ids, `ids/day=YYYY-MM-DD/ids.parquet` (the distinct valid event ids of the
 * day and their hashes) with the fingerprint of its inputs; `contested.parquet`, every raw copy of the event ids
 * whose valid copies lie on more than one day, and `contested.json`, those ids per day.
 */
export class LocalTileStore {
  private readonly root: string;
  /** The UTC days of each lake file version's valid events (see {@link unaffected}). */
  private readonly fileDays = new Map<string, Promise<string[]>>();

  constructor(
    private readonly connection: DuckDBConnection,
    stateDir: string,
    private readonly options: LocalTileStoreOptions = {},
  ) {
    this.root = join(stateDir, 'tiles');
  }

  /** `days` in build batches (see {@link BUILD_BATCH_BYTES}), by the sizes of the lake's partitions. */
  private async batches(days: readonly string[], files: LakeFiles): Promise<string[][]> {
    const sizes = new Map<string, number>();
    for (const partition of files.partitions)
      sizes.set(
        partition,
        (await partitionInputs(files, `dt=${partition}`)).reduce((sum, file) => sum + file.size, 0),
      );
    return dayBatches(days, (partition) => sizes.get(partition) ?? 0, this.options.batchBytes ?? BUILD_BATCH_BYTES);
  }

  private dayDir(day: string): string {
    return join(this.root, `day=${day}`);
  }

  private get contestedFile(): string {
    return join(this.root, 'contested.parquet');
  }

  /** The contested ids per day, as last derived from the index (`{ day: ids }`). */
  private get contestedIdsFile(): string {
    return join(this.root, 'contested.json');
  }

  /** A day's entries of the index of counted ids: `ids/day=D/ids.parquet` and the fingerprint of its inputs. */
  private indexDir(day: string): string {
    return join(this.root, 'ids', `day=${day}`);
  }

  /**
   * Builds the tiles of `days` that are missing or stale for `measures`, after bringing the index
   * of counted ids and the contested copies up to date; returns each day's status before the build.
   * A day stale only for measures keeps its rows and gains the new measures' rows.
   */
  async refresh(
    measures: readonly TileMeasure[],
    days: readonly string[],
    lake: LakeRelations,
    files: LakeFiles,
    options: { readonly screen?: boolean } = {},
  ): Promise<Map<string, TileStatus>> {
    await mkdir(this.root, { recursive: true });
    // Someone is forgotten: what this builds from the lake is marked unscreened until the screen (LocalTiles.forgetForgotten).
    if (options.screen) await this.markUnscreened([]);
    const inputs = new Map<string, InputFile[]>();
    const inputsOfDay = async (day: string) => inputs.get(day) ?? inputs.set(day, await inputsOf(files, day)).get(day) ?? [];
    const contestedDays = await this.refreshIndex(lake, files, inputsOfDay);
    const ids = measures.map((m) => m.id).sort();
    const statuses = new Map<string, TileStatus>();
    const whole: TileFingerprint[] = [];
    const backfills = new Map<string, { fingerprints: TileFingerprint[]; measures: TileMeasure[] }>();
    for (const day of days) {
      const current: TileFingerprint = {
        day,
        inputs: await inputsOfDay(day),
        measures: ids,
        contested: digest(contestedDays.get(day) ?? []),
      };
      const stored = await this.fingerprint(day);
      let status = tileStatus(stored, current);
      if (
        stored &&
        status.status === 'stale' &&
        status.reason === 'inputs' &&
        (await this.unaffected(day, stored.inputs, current.inputs, files))
      ) {
        // Only files without a valid event on the day came (today's file beside yesterday's tile).
        const kept = { ...stored, inputs: current.inputs };
        if (tileStatus(kept, current).status === 'fresh') {
          await writeJsonAtomically(join(this.dayDir(day), 'fingerprint.json'), kept);
          status = { status: 'fresh' };
        }
      }
      statuses.set(day, status);
      if (status.status === 'fresh') continue;
      if (status.status === 'stale' && status.reason === 'measures' && stored !== undefined) {
        // The day's inputs and contested ids are unchanged: only the new measures are built.
        const added = measures.filter((m) => !stored.measures.includes(m.id));
        const key = added.map((m) => m.id).join(',');
        const group = backfills.get(key) ?? backfills.set(key, { fingerprints: [], measures: added }).get(key);
        group?.fingerprints.push({ ...current, measures: [...new Set([...stored.measures, ...ids])].sort() });
      } else {
        whole.push(current);
      }
    }
    if (options.screen) await this.markUnscreened([...whole, ...[...backfills.values()].flatMap((g) => g.fingerprints)].map((f) => f.day));
    if (whole.length > 0) await this.build(whole, measures, lake, files, false);
    for (const group of backfills.values()) await this.build(group.fingerprints, group.measures, lake, files, true);
    return statuses;
  }

  /** The fingerprints tiles of `days` built now would have (after refresh brought the index of counted ids up to date). */
  async currentFingerprints(days: readonly string[], measures: readonly TileMeasure[], files: LakeFiles): Promise<TileFingerprint[]> {
    const contested = (await readJson<Record<string, string[]>>(this.contestedIdsFile)) ?? {};
    const ids = measures.map((m) => m.id).sort();
    return Promise.all(
      days.map(async (day) => ({ day, inputs: await inputsOf(files, day), measures: ids, contested: digest(contested[day] ?? []) })),
    );
  }

  private get unscreenedFile(): string {
    return join(this.root, 'unscreened.json');
  }

  /**
   * Adds `days` to the days built from the lake while someone is forgotten and not screened yet
   * (`unscreened.json`; written before the build and the contested copies' rewrite, removed by
   * {@link screened}): a run stopped between its build and its screen leaves them to the next one.
   */
  private async markUnscreened(days: readonly string[]): Promise<void> {
    const mark = await readJson<unknown>(this.unscreenedFile);
    const next = markAdding(mark === undefined ? undefined : markedDays(mark), days);
    if (next !== undefined) await writeJsonAtomically(this.unscreenedFile, next);
  }

  /** The days marked unscreened, with a tile file; undefined without a mark (nothing built since the last screen). */
  async unscreened(): Promise<string[] | undefined> {
    const mark = await readJson<unknown>(this.unscreenedFile);
    if (mark === undefined) return undefined;
    const stored = new Set(await storedDays(this.root, 'tiles.parquet'));
    return markedDays(mark).filter((day) => stored.has(day));
  }

  /** Removes the mark once the days built (and the contested copies) are screened. */
  async screened(): Promise<void> {
    await rm(this.unscreenedFile, { force: true });
  }

  /** The stored fingerprint of a day, if its tile exists. */
  async fingerprint(day: string): Promise<TileFingerprint | undefined> {
    return readJson<TileFingerprint>(join(this.dayDir(day), 'fingerprint.json'));
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

  /**
   * Brings the index of counted ids up to date for every day the lake can hold valid events on
   * (each `dt` partition and one day each side), re-reading only the days whose input files changed;
   * then, when any did, re-derives the contested ids from the index (the new days' ids and the ids
   * contested before, never the lake: first their hashes against the hashes of every indexed day, then
   * the ids themselves on the days holding a hash found on more than one day) and rewrites
   * contested.parquet from the partitions that hold their copies. Returns the contested ids with a
   * valid copy on each day.
   */
  private async refreshIndex(
    lake: LakeRelations,
    files: LakeFiles,
    inputsOfDay: (day: string) => Promise<InputFile[]>,
  ): Promise<Map<string, string[]>> {
    const changed: { day: string; inputs: InputFile[] }[] = [];
    const days = lakeDays(files.partitions);
    for (const day of days) {
      const current = await inputsOfDay(day);
      const found = await readJson<{ inputs: InputFile[]; layout?: string }>(join(this.indexDir(day), 'fingerprint.json'));
      // A day indexed in another layout (no hashes) is indexed again.
      const stored = found?.layout === INDEX_LAYOUT ? found : undefined;
      if (stored !== undefined && sameInputs(stored.inputs, current)) continue;
      if (stored !== undefined && (await this.unaffected(day, stored.inputs, current, files))) {
        await writeJsonAtomically(join(this.indexDir(day), 'fingerprint.json'), { day, inputs: current, layout: INDEX_LAYOUT });
        continue;
      }
      changed.push({ day, inputs: current });
    }
    // Days whose partitions left the lake leave the index.
    const gone = (await this.indexedDays()).filter((day) => !days.includes(day));
    for (const day of gone) await rm(this.indexDir(day), { recursive: true, force: true });
    const contestedIds = await readJson<Record<string, string[]>>(this.contestedIdsFile);
    if (changed.length === 0 && gone.length === 0 && contestedIds !== undefined) return new Map(Object.entries(contestedIds));
    // Without contested.json (first run, or a run stopped half-way) every indexed id is a candidate:
    // the ids compared are those whose hash lies on more than one index row (sharedHashRowsSql).
    const everything = contestedIds === undefined;
    await rm(this.contestedIdsFile, { force: true });
    const rebuilt = changed.map((c) => c.day);
    // In batches as the tiles are (a day's entries are its own events' ids: exact whatever the batch).
    for (const batch of await this.batches(rebuilt, files)) {
      await this.writeDays(hashedDayIdsSql(duckdbDialect, lake.events, batch), batch, {
        name: 'ids',
        columns: ['event_id', 'h'],
        dirOf: (day) => this.indexDir(day),
        empty: 'SELECT CAST(NULL AS VARCHAR) AS event_id, CAST(NULL AS UBIGINT) AS h WHERE FALSE',
      });
    }
    const indexed = await this.indexedDays();
    const parts = [
      ...(rebuilt.length === 0 ? [] : [`SELECT event_id FROM ${this.indexRelation(rebuilt)} AS new_ids`]),
      `SELECT event_id FROM ${this.relations([]).contestedIds} AS contested_before`,
    ];
    const candidates = identifier(`tiles_candidates_${++buildCounter}`);
    const contestedTable = identifier(`tiles_contested_${buildCounter}`);
    // Every indexed id is a candidate then: no list of them is made.
    if (!everything)
      await this.connection.run(
        `CREATE TEMP TABLE ${candidates} AS SELECT event_id, ${idHashSql('event_id')} AS h FROM (${parts.join(' UNION ')}) AS ids`,
      );
    for (const { day, inputs } of changed)
      await writeJsonAtomically(join(this.indexDir(day), 'fingerprint.json'), { day, inputs, layout: INDEX_LAYOUT });
    try {
      // The ids themselves are compared on the days holding a candidate's hash on more than one day only.
      const compared = indexed.length === 0 || everything ? indexed : await this.hashedDays(indexed, candidates);
      const sql =
        compared.length === 0
          ? 'SELECT CAST(NULL AS VARCHAR) AS event_id, CAST(NULL AS VARCHAR) AS day WHERE FALSE'
          : everything
            ? contestedFromIndexSql(sharedHashRowsSql(this.indexRelation(compared)))
            : contestedFromIndexSql(this.indexRelation(compared), candidates);
      // Computed once: read here, and again by the COPY of their copies.
      await this.connection.run(`CREATE TEMP TABLE ${contestedTable} AS ${sql}`);
      const rows = (await this.connection.runAndReadAll(`SELECT event_id, day FROM ${contestedTable} ORDER BY day, event_id`)).getRows();
      const byDay = new Map<string, string[]>();
      for (const [id, day] of rows) byDay.set(String(day), [...(byDay.get(String(day)) ?? []), String(id)]);
      const contested = contestedTable;
      await this.copy(contestedCopiesSql(lake.events, contested, [...byDay.keys()].flatMap(tilePartitions)), this.contestedFile);
      await writeJsonAtomically(this.contestedIdsFile, Object.fromEntries(byDay));
      return byDay;
    } finally {
      await this.connection.run(`DROP TABLE IF EXISTS ${candidates}`);
      await this.connection.run(`DROP TABLE IF EXISTS ${contestedTable}`);
    }
  }

  /** The days of `indexed` holding the hash of a candidate (`candidates`: `event_id, h`) found on more than one day of them. */
  private async hashedDays(indexed: readonly string[], candidates: string): Promise<string[]> {
    const sql = contestedFromIndexSql(this.indexRelation(indexed), candidates, 'h');
    const rows = (await this.connection.runAndReadAll(`SELECT DISTINCT day FROM (${sql}) AS hashed ORDER BY day`)).getRows();
    return rows.map((row) => String(row[0]));
  }

  /** The index entries (`event_id, h, day`) of `days`, each indexed. */
  private indexRelation(days: readonly string[]): string {
    const files = days.map((day) => join(this.indexDir(day), 'ids.parquet'));
    return `read_parquet(${fileList(files)}, hive_partitioning = true, hive_types = {'day': VARCHAR})`;
  }

  /** The days whose index entries are stored. */
  private async indexedDays(): Promise<string[]> {
    return (await storedDays(join(this.root, 'ids'), 'ids.parquet')).sort();
  }

  /**
   * Writes the rows of `sql` (with a `day` column, of `days` only) as one `<name>.parquet` per day of `days` under
   * `dirOf(day)`, in one COPY partitioned by day (a day without rows gets an empty file).
   */
  private async writeDays(
    sql: string,
    days: readonly string[],
    file: {
      readonly name: string;
      readonly columns: readonly string[];
      readonly dirOf: (day: string) => string;
      /** No rows, with the columns' types (never `sql` itself: its CTEs would be computed again). */
      readonly empty: string;
      /**
       * The column each day's rows are sorted by, written in row groups of {@link TILE_DAY_ROW_GROUP_SIZE} rows: `sql`
       * yields them in that order (dayTilesSql `byMeasure`), which DuckDB keeps through the table and the COPY
       * (preserve_insertion_order keeps a UNION ALL's branches in order), so nothing sorts the batch (an ORDER BY here
       * raised the 10M bench's peak RSS from 1384 to 1599 MB); a file merged from parts is sorted (copy).
       */
      readonly sortedBy?: string;
    },
  ): Promise<void> {
    // A `.tmp-` folder: a killed build's parts are crash leftovers (shared/local/leftovers.ts), removed by the next run.
    const scratch = join(this.root, `.tmp-build-${process.pid}-${++buildCounter}`);
    const table = identifier(`tiles_built_${buildCounter}`);
    const columns = file.columns.join(', ');
    try {
      // Computed into a table first, then written: a COPY ... PARTITION_BY fed by the query itself
      // took twice the CPU (91 days of the 1M-event bench lake: 16 s against 4 + 3.5 s).
      // No filter on `day` here: `sql` holds the days only, and a filter would be pushed into each of its branches.
      await this.connection.run(`CREATE TEMP TABLE ${table} AS SELECT ${columns}, day FROM (${sql}) AS rows`);
      // One thread: DuckDB's threads each keep a writer per open day and flush more, smaller row
      // groups (91 days of the 1M-event bench lake: 2.3 s CPU against 3.7, and less wall time under load).
      await oneThread(this.connection, () =>
        this.connection.run(
          `COPY ${table} TO ${stringLiteral(scratch)} (${parquetOptions(file.sortedBy)}, PARTITION_BY (day), FILENAME_PATTERN 'part_{i}')`,
        ),
      );
      for (const day of days) {
        const dir = file.dirOf(day);
        await mkdir(dir, { recursive: true });
        const target = join(dir, `${file.name}.parquet`);
        const built = join(scratch, `day=${day}`);
        const parts = await readdir(built).catch(() => [] as string[]);
        // DuckDB may flush a partition into more than one file (many days open at once): merged into one.
        if (parts.length > 1)
          await this.copy(
            `SELECT * FROM read_parquet(${fileList(parts.map((part) => join(built, part)))}, hive_partitioning = false)`,
            target,
            file.sortedBy,
          );
        else if (parts[0] !== undefined) await rename(join(built, parts[0]), target);
        else await this.copy(file.empty, target);
      }
    } catch (error) {
      throw fileWriteError(error, scratch, this.root);
    } finally {
      await this.connection.run(`DROP TABLE IF EXISTS ${table}`);
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /**
   * Builds the tiles of several days, in batches (see {@link BUILD_BATCH_BYTES}): each one pass
   * over its days' partitions, written by one COPY partitioned by day, then each of its days'
   * fingerprints (a run stopped between batches leaves whole days built, the others missing).
   * `keep`: the days keep their stored rows and gain `measures` (a new measure backfilled,
   * presence not rebuilt).
   */
  private async build(
    days: readonly TileFingerprint[],
    measures: readonly TileMeasure[],
    lake: LakeRelations,
    files: LakeFiles,
    keep: boolean,
  ): Promise<void> {
    const byDay = new Map(days.map((f) => [f.day, f]));
    let done = 0;
    const batches = await this.batches([...byDay.keys()], files);
    for (const names of batches) {
      let sql = dayTilesSql({
        measures,
        dialect: duckdbDialect,
        events: lake.events,
        days: names,
        contested: this.relations([]).contestedIds,
        presence: !keep,
        byMeasure: true,
      });
      // The kept rows without the added measures' (a backfill stopped after a day's file, before its fingerprint).
      const added = measures.map((m) => stringLiteral(m.id)).join(', ');
      if (keep)
        sql = `SELECT ${TILE_COLUMNS.join(', ')}, day FROM ${this.relations(names).tiles} AS kept WHERE measure NOT IN (${added}) UNION ALL SELECT ${TILE_COLUMNS.join(', ')}, day FROM (${sql}) AS added`;
      await this.writeDays(sql, names, {
        name: 'tiles',
        columns: TILE_COLUMNS,
        dirOf: (day) => this.dayDir(day),
        sortedBy: TILE_DAY_ORDER,
        empty: `SELECT ${TILE_COLUMNS.join(', ')} FROM ${noTilesSql(duckdbDialect)} AS none`,
      });
      for (const day of names) await writeJsonAtomically(join(this.dayDir(day), 'fingerprint.json'), byDay.get(day));
      done += names.length;
      // Told only of a build in several batches (minutes on a large lake), not of a few days built at once.
      if (batches.length > 1) this.options.onProgress?.(keep ? 'tiles: backfilling measures' : 'tiles: building days', done, byDay.size);
    }
  }

  /**
   * Whether the files of a day changed only by files added that hold no valid event on the day (a
   * realtime tick's file in today's partition, beside yesterday's tile and index day): then the
   * day's tile and index entries are what a rebuild would give, and are kept. Added files are read
   * once each (their valid events' UTC days).
   */
  private async unaffected(day: string, stored: readonly InputFile[], current: readonly InputFile[], files: LakeFiles): Promise<boolean> {
    const added = addedInputs(stored, current);
    if (added === undefined || added.length === 0) return false;
    for (const file of added) if ((await this.daysOf(file, files)).includes(day)) return false;
    return true;
  }

  /** The UTC days of the valid events of one lake file, once per file version. */
  private daysOf(file: InputFile, files: LakeFiles): Promise<string[]> {
    const key = `${file.path}|${file.size}|${file.version}`;
    const known = this.fileDays.get(key);
    if (known) return known;
    const days = (async () => {
      const path = join(files.root, 'events', ...file.path.split('/'));
      const only = {
        ...files,
        events: { parquet: path.endsWith('.parquet') ? [path] : [], jsonl: path.endsWith('.parquet') ? [] : [path] },
      };
      const read = async (sql: string) => (await this.connection.runAndReadAll(sql)).getRows();
      const schemas = await readParquetSchemas(read, only.events.parquet, fileList);
      const events = duckdbLakeRelations(only, schemas).events;
      const rows = await read(validDaysSql(duckdbDialect, events));
      return rows.map((row) => String(row[0]));
    })();
    this.fileDays.set(key, days);
    days.catch(() => this.fileDays.delete(key));
    return days;
  }

  /**
   * Rewrites every tile day and the contested copies without the rows of the identity keys of a
   * person (any of `forms`; `identities()` gives the lake's identity map); returns the files
   * rewritten. The index of counted ids holds event ids only and stays. A tile rebuilt later
   * (its inputs changed) reads the lake again, where the person's events still are; refreshes
   * leave the person out by the erasure record. `days`: only those days' tiles (and the contested
   * copies) are read, the days a refresh has just built from the lake.
   */
  async forget(forms: readonly string[], identities: () => Promise<string>, days?: readonly string[]): Promise<string[]> {
    const stored = await storedDays(this.root, 'tiles.parquet');
    const files = (days === undefined ? stored : stored.filter((day) => days.includes(day)))
      .sort()
      .map((day) => join(this.dayDir(day), 'tiles.parquet'));
    if (await exists(this.contestedFile)) files.push(this.contestedFile);
    if (files.length === 0) return [];
    const map = await identities();
    const rewritten: string[] = [];
    for (const file of files) {
      const rows = `read_parquet(${stringLiteral(file)}, hive_partitioning = false)`;
      const kept =
        file === this.contestedFile ? eventRowsKeptSql(duckdbDialect, rows, map, forms) : tileRowsKeptSql(duckdbDialect, rows, map, forms);
      const counts = (
        await this.connection.runAndReadAll(`SELECT (SELECT count(*) FROM ${rows} AS a), (SELECT count(*) FROM (${kept}) AS b)`)
      ).getRows()[0];
      if (Number(counts?.[0]) === Number(counts?.[1])) continue;
      await this.copy(kept, file, file === this.contestedFile ? undefined : TILE_DAY_ORDER);
      rewritten.push(file);
    }
    return rewritten;
  }

  /** Writes a query's rows (sorted by `sortedBy`, see writeDays) to a Parquet file under a temporary name, then renames it into place. */
  private async copy(sql: string, file: string, sortedBy?: string): Promise<void> {
    const tmp = join(file, '..', `.tmp-${file.split(sep).pop() ?? 'tiles'}`);
    const rows = sortedBy === undefined ? sql : `SELECT * FROM (${sql}) AS unsorted ORDER BY ${sortedBy}`;
    try {
      await this.connection.run(`COPY (${rows}) TO ${stringLiteral(tmp)} (${parquetOptions(sortedBy)})`);
      await rename(tmp, file);
    } catch (error) {
      throw fileWriteError(error, file, this.root);
    }
  }
}

/** The COPY options of a file whose rows are sorted (tile days: in row groups of {@link TILE_DAY_ROW_GROUP_SIZE}) or not. */
const parquetOptions = (sortedBy: string | undefined) =>
  sortedBy === undefined ? TILE_PARQUET_OPTIONS : `${TILE_PARQUET_OPTIONS}, ROW_GROUP_SIZE ${TILE_DAY_ROW_GROUP_SIZE}`;

/** A lake listing's events files by `dt` partition, and each partition's inputs once stat'ed (tile days share partitions). */
const listed = new WeakMap<
  LakeFiles,
  { paths: Map<string, { file: string; path: string }[]>; inputs: Map<string, Promise<InputFile[]>> }
>();

/** The events files of one `dt=YYYY-MM-DD` partition with size and modification time, sorted by path. */
function partitionInputs(files: LakeFiles, partition: string): Promise<InputFile[]> {
  let entry = listed.get(files);
  if (entry === undefined) {
    const eventsDir = join(files.root, 'events');
    const paths = new Map<string, { file: string; path: string }[]>();
    for (const file of [...files.events.parquet, ...files.events.jsonl]) {
      const path = relative(eventsDir, file).split(sep).join('/');
      const dir = path.split('/')[0] ?? '';
      paths.set(dir, [...(paths.get(dir) ?? []), { file, path }]);
    }
    entry = { paths, inputs: new Map() };
    listed.set(files, entry);
  }
  const known = entry.inputs.get(partition);
  if (known) return known;
  const inputs = Promise.all(
    (entry.paths.get(partition) ?? []).map(async ({ file, path }) => {
      const info = await stat(file);
      return { path, size: info.size, version: info.mtime.toISOString() };
    }),
  );
  entry.inputs.set(partition, inputs);
  return inputs;
}

/** Every events file of the partitions a day's tile reads, with size and modification time. */
async function inputsOf(files: LakeFiles, day: string): Promise<InputFile[]> {
  const inputs = (await Promise.all(tilePartitions(day).map((d) => partitionInputs(files, `dt=${d}`)))).flat();
  return inputs.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** Every day the lake can hold valid events on: each partition's day and one day each side, sorted. */
function lakeDays(partitions: readonly string[]): string[] {
  return [...new Set(partitions.flatMap(tilePartitions))].sort();
}

/** A JSON file's content; undefined when it does not exist. */
export async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Writes JSON under a temporary name, then renames it into place. */
export async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  await writeTextAtomically(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Writes text under a temporary name (`.tmp-<name>` beside it), then renames it into place. */
export async function writeTextAtomically(file: string, text: string): Promise<void> {
  const tmp = join(file, '..', `.tmp-${basename(file)}`);
  try {
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (error) {
    throw fileWriteError(error, file, dirname(file));
  }
}

/** The days `D` of the `day=D` folders of `dir` that hold `file`. */
async function storedDays(dir: string, file: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const days = names.filter((n) => n.startsWith('day=')).map((n) => n.slice(4));
  const stored = await Promise.all(days.map(async (day) => ((await exists(join(dir, `day=${day}`, file))) ? [day] : [])));
  return stored.flat();
}

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

const digest = (ids: readonly string[]) =>
  createHash('sha256')
    .update(JSON.stringify([...ids].sort()))
    .digest('hex');
