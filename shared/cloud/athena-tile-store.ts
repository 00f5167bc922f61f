import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { athenaDialect } from '../compiler/athena-dialect.ts';
import { identifier, stringLiteral } from '../compiler/sql-text.ts';
import { TILE_CONTESTED_PREFIX, TILE_DAYS_PREFIX, TILE_FINGERPRINTS_PREFIX, TILE_UNSCREENED_KEY } from '../bucket-layout.ts';
import { DAY_MS } from '../tiles/day-split.ts';
import { addedInputs, type InputFile, type TileFingerprint, type TileStatus, tileStatus } from '../tiles/fingerprint.ts';
import { ROLLUP_DAY, type TileExpiry } from '../tiles/expiry.ts';
import { rollupSql } from '../tiles/expiry-sql.ts';
import type { TileMeasure } from '../tiles/measures.ts';
import type { PopulationRelations, TileReads, TileRefreshReport, TileRelations, TileStore } from '../tiles/tile-store.ts';
import { dayTilesSql } from '../tiles/day-tiles-sql.ts';
import { noTilesSql } from '../tiles/tile-sql.ts';
import { eventRowsHeldSql, eventRowsKeptSql, tilePersonsSql, tileRowsHeldSql, tileRowsKeptSql } from '../tiles/forget-sql.ts';
import { validDaysSql } from '../tiles/valid-days-sql.ts';
import { markAdding, markedDays } from '../tiles/unscreened-mark.ts';
import type { ListedLake } from './athena-engine.ts';
import type { AthenaQueryRunner } from './athena-query.ts';
import {
  CONTESTED_TABLE_COLUMNS,
  IDS_TABLE_COLUMNS,
  readSelect,
  type StoredColumn,
  storedSelect,
  TILE_DAY_COLUMN,
  TILE_TABLE_COLUMNS,
  POPULATION_TABLE_COLUMNS,
  TILES_CONTESTED_TABLE,
  TILES_IDS_TABLE,
  TILES_POPULATION_TABLE,
  TILES_TABLE,
} from './athena-tile-tables.ts';
import { AthenaTilePopulation } from './athena-tile-population.ts';
import { AthenaTileIds, inputsOf } from './athena-tile-ids.ts';
import { inParallel } from './lake-manifests.ts';
import { deleteObjects, deletePrefix, objectsUnder } from './s3-prefix.ts';
import { AthenaTileRollup, ROLLUP_SLOTS, ROLLUP_STATE_KEY } from './athena-tile-rollup.ts';
import { S3BlobStore } from './s3-blob-store.ts';
import { bucketName } from './s3-uri.ts';

/**
 * Athena writes at most 100 partitions per INSERT INTO (HIVE_TOO_MANY_OPEN_PARTITIONS; "Using
 * CTAS and INSERT INTO to work around the 100 partition limit", Athena user guide).
 */
export const MAX_DAYS_PER_INSERT = 100;

/**
 * Stale days this close (in days) are built by one INSERT: a day reads partitions d-1..d+1, so
 * days up to three apart read no partition more together than apart.
 */
const MERGE_GAP_DAYS = 3;

/** What an {@link AthenaTileStore} reads and writes. */
export interface AthenaTileStoreOptions {
  /** Runs the builds in the refresh's workgroup and Glue database. */
  readonly runner: AthenaQueryRunner;
  readonly s3: S3Client;
  /** The Glue database of the lake tables and of the tile tables. */
  readonly database: string;
  /** The snapshots bucket: tiles under `tiles/` (bucket-layout.ts). */
  readonly bucket: string;
  /**
   * The lake as this refresh reads it: the relations a build scans and the events files of the same
   * listing, which the fingerprints record (one listing: what a tile says it read is what it read).
   */
  readonly lake: () => Promise<ListedLake>;
  /** Expired days are folded into the rollup once at least this many are. @default FOLD_BATCH_DAYS (shared/tiles/expiry.ts) */
  readonly foldBatchDays?: number;
  /** Bytes of the id index from which its digests pick the days a derivation reads. @default ATHENA_MIN_BILLED_BYTES (athena-tile-ids.ts) */
  readonly digestIndexFromBytes?: number;
  /**
   * Rows of a SELECT that may have millions (the ids of index days), in batches as they stream from
   * its result file in one GET (csvResultBatches); `scanned` told the bytes it scanned.
   * @default - the runner's pages of 1,000 rows, as one batch
   */
  readonly manyRows?: (sql: string, scanned: (bytes: number) => void) => AsyncIterable<readonly (readonly (string | null)[])[]>;
}

/** A day to build and what its tile is built from. */
interface Build {
  readonly fingerprint: TileFingerprint;
  readonly status: TileStatus;
}

/**
 * Daily tiles in the snapshots bucket, built by Athena (issue 14), the cloud's {@link TileStore}:
 *
 * - Tile rows in the Glue table `tiles` (Parquet, partition `day`, files under
 *   `tiles/days/day=<d>/`); fingerprints as JSON objects `tiles/fingerprints/<d>.json`.
 * - A day's inputs are the events files of partitions d-1..d+1 in the lake's listing (key, size,
 *   ETag). A missing or stale day (tileStatus) loses its fingerprint, then its files, and is
 *   rebuilt by `INSERT INTO tiles SELECT ... FROM (partialsSql byDay)`, nearby days together, at
 *   most {@link MAX_DAYS_PER_INSERT} a statement; its fingerprint is written after the INSERT.
 *   A crash in between leaves the day missing, never fresh with wrong rows. No client request
 *   token: a retried refresh must insert again after deleting, not be handed the first INSERT.
 * - The index of counted ids (athena-tile-ids.ts, the Glue table `tiles_ids`) is brought up to
 *   date first, re-reading only days whose files changed; when any did, the contested ids are
 *   derived from the index and their copies (every raw copy of the ids whose valid copies lie on
 *   several days) rewritten into `tiles_contested`; the contested ids per day feed the fingerprints.
 * - A day whose partitions only gained files none of which holds a valid event of it is kept
 *   (its fingerprint updated): one query reads the added files only, for the index and the tiles.
 * - The population index (athena-tile-population.ts) is brought up to date by {@link population}.
 * - `bytesScanned` adds up DataScannedInBytes of every query the refresh ran.
 */
export class AthenaTileStore implements TileStore {
  private readonly bucket: string;
  private readonly fingerprints: S3BlobStore;
  private readonly tiles: string;
  private readonly contested: string;
  private readonly rollup: AthenaTileRollup;
  private readonly populationIndex: AthenaTilePopulation;
  private readonly ids: AthenaTileIds;
  /** The days the last refresh brought up to date (expire folds those before its first day kept). */
  private refreshed: readonly string[] = [];

  constructor(private readonly options: AthenaTileStoreOptions) {
    this.bucket = bucketName(options.bucket);
    this.fingerprints = new S3BlobStore(options.s3, { bucket: this.bucket });
    this.tiles = `${identifier(options.database)}.${identifier(TILES_TABLE)}`;
    this.contested = `${identifier(options.database)}.${identifier(TILES_CONTESTED_TABLE)}`;
    this.rollup = new AthenaTileRollup({
      s3: options.s3,
      bucket: this.bucket,
      blobs: this.fingerprints,
      run: async (sql) => {
        await options.runner.execute(sql);
      },
      insertTiles: (sql, day) => this.insert(this.tiles, [...TILE_TABLE_COLUMNS, TILE_DAY_COLUMN], sql, `day IN (${stringLiteral(day)})`),
      tileRows: (days) =>
        `(SELECT ${readSelect(TILE_TABLE_COLUMNS)} FROM ${this.tiles} WHERE ${identifier('day')} IN (${days.map(stringLiteral).join(', ')}))`,
      fold: (rows) => rollupSql(athenaDialect, rows),
      fingerprintKey,
      ...(options.foldBatchDays === undefined ? {} : { batchDays: options.foldBatchDays }),
    });
    const idsTable = `${identifier(options.database)}.${identifier(TILES_IDS_TABLE)}`;
    this.ids = new AthenaTileIds({
      s3: options.s3,
      bucket: this.bucket,
      blobs: this.fingerprints,
      idsTable,
      contestedTable: this.contested,
      insertIds: (sql, days) =>
        this.insert(idsTable, [...IDS_TABLE_COLUMNS, TILE_DAY_COLUMN], sql, `day IN (${days.map(stringLiteral).join(', ')})`),
      insertContested: (sql) => this.insert(this.contested, CONTESTED_TABLE_COLUMNS, sql),
      batches: (days) => batches(days.map((day) => ({ fingerprint: { day } }))).map((group) => group.map((b) => b.fingerprint.day)),
      ...(options.digestIndexFromBytes === undefined ? {} : { digestFromBytes: options.digestIndexFromBytes }),
    });
    const population = `${identifier(options.database)}.${identifier(TILES_POPULATION_TABLE)}`;
    this.populationIndex = new AthenaTilePopulation({
      runner: options.runner,
      s3: options.s3,
      bucket: this.bucket,
      blobs: this.fingerprints,
      table: population,
      visible: (days) => {
        const { days: visible, slot } = this.rollup.visible(days);
        return visible.map((day) => ({ day, stored: day === ROLLUP_DAY && slot !== undefined ? slot : day }));
      },
      tileRows: (days) =>
        days.length === 0
          ? noTilesSql(athenaDialect)
          : `(SELECT measure, source, user_key, ${this.dayAs()} FROM ${this.tiles} WHERE day IN (${[...new Set(days.map((d) => d.stored))].sort().map(stringLiteral).join(', ')}))`,
      insert: (sql) => this.insert(population, POPULATION_TABLE_COLUMNS, sql),
    });
  }

  /** `day` as a query reads it: the rollup's slot as ROLLUP_DAY, before every real day. */
  private dayAs(): string {
    const slot = this.rollup.visible([]).slot;
    return slot === undefined ? 'day' : `CASE WHEN day = ${stringLiteral(slot)} THEN ${stringLiteral(ROLLUP_DAY)} ELSE day END AS day`;
  }

  /** The population index of the tiles of `days` (athena-tile-population.ts), after refresh, screening and expiry. */
  population(days: readonly string[]): Promise<PopulationRelations> {
    return this.populationIndex.relations(days);
  }

  async refresh(request: {
    readonly measures: readonly TileMeasure[];
    readonly days: readonly string[];
    readonly runId: string;
    readonly expiry?: TileExpiry;
    readonly screen?: boolean;
  }): Promise<TileRefreshReport> {
    // Someone is forgotten: the contested copies and the days built are unscreened until forgetForgotten.
    if (request.screen) await this.markUnscreened([]);
    const lake = await this.options.lake();
    let bytes = 0;
    const run = async (sql: string) => {
      const execution = await this.options.runner.execute(sql);
      bytes += execution.statistics.dataScannedInBytes;
    };

    const scanned = (n: number) => {
      bytes += n;
    };
    const touched = this.touchedDays(lake, scanned);
    const manyRows = this.options.manyRows;
    const contested = await this.ids.refresh(lake, touched, {
      run,
      rows: async (sql) => {
        const result = await this.options.runner.query(sql);
        scanned(result.statistics.dataScannedInBytes);
        return result.rows;
      },
      ...(manyRows === undefined ? {} : { manyRows: (sql: string) => manyRows(sql, scanned) }),
    });

    const ids = request.measures.map((m) => m.id).sort();
    const builds: Build[] = [];
    const current = (day: string): TileFingerprint => ({
      day,
      inputs: inputsOf(lake, day),
      measures: ids,
      contested: digest(contested.get(day) ?? []),
    });
    this.refreshed = [...new Set(request.days)];
    // Days folded into the rollup and unchanged are served by it (expiry, athena-tile-rollup.ts).
    const toBuild = await this.rollup.daysToBuild(this.refreshed, request.expiry, current);
    let fresh = this.refreshed.length - toBuild.length;
    const keepable: { fingerprint: TileFingerprint; status: TileStatus; added: readonly InputFile[] }[] = [];
    await inParallel(toBuild, async (day) => {
      const fingerprint = current(day);
      const stored = await this.fingerprint(day);
      const status = tileStatus(stored, fingerprint);
      const added = keptFor(stored, fingerprint);
      if (status.status === 'fresh') fresh++;
      else if (added !== undefined) keepable.push({ fingerprint, status, added });
      else builds.push({ fingerprint, status });
    });
    // Only files came to these days' partitions: a day none of their valid events falls on is kept.
    const hit = keepable.length === 0 ? undefined : await touched(keepable.flatMap((k) => k.added));
    for (const { fingerprint, status } of keepable) {
      if (hit === undefined || hit.has(fingerprint.day)) builds.push({ fingerprint, status });
      else {
        await this.fingerprints.put(fingerprintKey(fingerprint.day), `${JSON.stringify(fingerprint, null, 2)}\n`);
        fresh++;
      }
    }
    builds.sort((a, b) => (a.fingerprint.day < b.fingerprint.day ? -1 : 1));
    if (request.screen && builds.length > 0) await this.markUnscreened(builds.map((b) => b.fingerprint.day));
    for (const batch of batches(builds)) await this.build(batch, request.measures, lake, run);

    return {
      built: builds.filter((b) => b.status.status === 'missing').map((b) => b.fingerprint.day),
      rebuilt: builds.flatMap((b) => (b.status.status === 'stale' ? [{ day: b.fingerprint.day, reason: b.status.reason }] : [])),
      fresh,
      bytesScanned: bytes,
    };
  }

  /** Folds the days before `keepFrom` of the last refresh into the rollup and deletes them (AthenaTileRollup). */
  expire(keepFrom: string): Promise<readonly string[]> {
    return this.rollup.expire(this.refreshed, keepFrom, (day) => this.fingerprint(day));
  }

  rolledUpBefore(): string | undefined {
    return this.rollup.rolledUpBefore();
  }

  relations(days: readonly string[]): TileRelations {
    const { days: visible, slot } = this.rollup.visible(days);
    const wanted = [...new Set(visible.map((day) => (day === ROLLUP_DAY && slot !== undefined ? slot : day)))].sort();
    const columns =
      slot === undefined ? readSelect([...TILE_TABLE_COLUMNS, TILE_DAY_COLUMN]) : `${readSelect(TILE_TABLE_COLUMNS)}, ${this.dayAs()}`;
    return {
      tiles:
        wanted.length === 0
          ? noTilesSql(athenaDialect)
          : `(SELECT ${columns} FROM ${this.tiles} WHERE day IN (${wanted.map(stringLiteral).join(', ')}))`,
      contestedIds: `(SELECT DISTINCT event_id FROM ${this.contested})`,
      contestedEvents: this.contestedEvents(),
    };
  }

  /**
   * Bytes of the files a query over `reads` would read: the tile files of its days (one listing of
   * `tiles/days/`) and the contested copies, and the lake's events files of its partitions in the
   * refresh's listing. An upper bound of what Athena scans (Parquet columns it skips still count).
   */
  async bytesOf(reads: TileReads): Promise<number> {
    const partitions = new Set(reads.partitions);
    let bytes = (await this.options.lake()).events.reduce((sum, o) => sum + (o.dt !== undefined && partitions.has(o.dt) ? o.size : 0), 0);
    if (reads.days.length === 0) return bytes;
    const { days: visible, slot } = this.rollup.visible(reads.days);
    const days = new Set(visible.map((day) => `${TILE_DAYS_PREFIX}day=${day === ROLLUP_DAY ? slot : day}/`));
    for await (const page of objectsUnder(this.options.s3, this.bucket, TILE_DAYS_PREFIX)) {
      for (const o of page) if (days.has(o.key.slice(0, o.key.lastIndexOf('/') + 1))) bytes += o.size;
    }
    for await (const page of objectsUnder(this.options.s3, this.bucket, TILE_CONTESTED_PREFIX)) for (const o of page) bytes += o.size;
    return bytes;
  }

  /**
   * Erasure (PrivacyPorts.tiles): rewrites every tile day and the contested copies that hold rows of
   * the identity keys of a person (any of `forms`) without them; returns the locations rewritten.
   *
   * The days holding the keys are found by one query over the tiles of the days that have files (one
   * listing of `tiles/days/`; never the whole projected `day` range). A day is rewritten by an
   * INSERT of its kept rows into its own partition (new files beside the old ones), then the old
   * files are deleted. Its fingerprint is deleted first and written back unchanged last (the
   * inputs did not change): while it is absent the day is missing, never read, and the next
   * refresh rebuilds it from scratch, so a crash midway loses nothing and shows no row twice. A day
   * that holds the keys and has no fingerprint is such a leftover: its files are deleted.
   * The contested copies are rewritten the same way (they are rewritten from the lake by every
   * refresh anyway, screened by {@link forgetForgotten}).
   * `days` (a refresh screening what it built): only those days are looked at, and the population
   * index stays (it is brought up to date after this from the screened tiles, by their files).
   */
  async forget(forms: readonly string[], days?: readonly string[]): Promise<string[]> {
    if (forms.length === 0) return [];
    // The population index names identity keys: dropped first, built again from the screened tiles.
    if (days === undefined) await this.populationIndex.drop();
    const identities = (await this.options.lake()).view.relations.identities;
    const run = (sql: string) => this.options.runner.execute(sql);
    const stored = (await this.storedDays()).filter((day) => days === undefined || days.includes(day));
    const held =
      stored.length === 0
        ? { rows: [] }
        : await this.options.runner.query(
            `SELECT DISTINCT day FROM (${tileRowsHeldSql(athenaDialect, this.storedRows(stored), identities, forms)}) AS held ORDER BY day`,
          );
    const rewritten: string[] = [];
    for (const [day] of held.rows) {
      if (day === null || day === undefined) continue;
      const prefix = `${TILE_DAYS_PREFIX}day=${day}/`;
      const old = await this.keysUnder(prefix);
      // The rollup (expiry) holds the person: it is dropped (its state first), and the next refresh
      // builds its days again from the lake, screened, as when a folded day changes.
      if ((ROLLUP_SLOTS as readonly string[]).includes(day)) {
        await deleteObjects(this.options.s3, this.bucket, [ROLLUP_STATE_KEY], 'the rollup state before erasure');
        this.rollup.dropped();
        await this.deleteKeys(old, 'the rollup before erasure');
        rewritten.push(`s3://${this.bucket}/${prefix}`);
        continue;
      }
      const fingerprint = await this.fingerprint(day);
      await deleteObjects(this.options.s3, this.bucket, [fingerprintKey(day)], `the fingerprint of ${day}`);
      if (fingerprint !== undefined) {
        const rows = `(SELECT * FROM ${this.tiles} WHERE day = ${stringLiteral(day)})`;
        await run(
          this.insert(this.tiles, [...TILE_TABLE_COLUMNS, TILE_DAY_COLUMN], tileRowsKeptSql(athenaDialect, rows, identities, forms)),
        );
      }
      await this.deleteKeys(old, `the tile of ${day} before erasure`);
      if (fingerprint !== undefined) await this.fingerprints.put(fingerprintKey(day), `${JSON.stringify(fingerprint, null, 2)}\n`);
      rewritten.push(`s3://${this.bucket}/${prefix}`);
    }
    const contested = await this.options.runner.query(
      `SELECT count(*) FROM (${eventRowsHeldSql(athenaDialect, this.contested, identities, forms)}) AS held`,
    );
    if (Number(contested.rows[0]?.[0] ?? 0) > 0) {
      const old = await this.keysUnder(TILE_CONTESTED_PREFIX);
      await run(this.insert(this.contested, CONTESTED_TABLE_COLUMNS, eventRowsKeptSql(athenaDialect, this.contested, identities, forms)));
      await this.deleteKeys(old, 'the contested copies before erasure');
      rewritten.push(`s3://${this.bucket}/${TILE_CONTESTED_PREFIX}`);
    }
    return rewritten;
  }

  /**
   * Drops the rows of forgotten people from the tiles of `days` and the contested copies, after a
   * refresh built them from the lake (where the people's events still are): the persons their
   * keys stand for are read, `isForgotten` (the erasure records' hashes) picks the forgotten ones,
   * and those are forgotten again ({@link forget}) in those days only. Returns the locations rewritten.
   */
  async forgetForgotten(isForgotten: (personId: string) => boolean, days: readonly string[]): Promise<string[]> {
    // With the days an earlier refresh built and did not screen (it stopped in between).
    const screen = [...new Set([...days, ...((await this.unscreened()) ?? [])])].sort();
    const identities = (await this.options.lake()).view.relations.identities;
    const tiles = this.storedRows(screen);
    const persons = await this.options.runner.query(tilePersonsSql(athenaDialect, tiles, this.contestedEvents(), identities));
    const forgotten = persons.rows.flatMap(([id]) => (id !== null && id !== undefined && isForgotten(id) ? [id] : []));
    const rewritten = forgotten.length === 0 ? [] : await this.forget(forgotten, screen);
    await deleteObjects(this.options.s3, this.bucket, [TILE_UNSCREENED_KEY], 'the mark of unscreened tile days');
    return rewritten;
  }

  /** The days marked unscreened ({@link TILE_UNSCREENED_KEY}); undefined without a mark. */
  private async unscreened(): Promise<string[] | undefined> {
    const bytes = await this.fingerprints.get(TILE_UNSCREENED_KEY);
    if (bytes === undefined) return undefined;
    try {
      return markedDays(JSON.parse(new TextDecoder().decode(bytes)));
    } catch {
      return [];
    }
  }

  /** Adds `days` to the mark of days built while someone is forgotten and not screened yet (written before they are built). */
  private async markUnscreened(days: readonly string[]): Promise<void> {
    const next = markAdding(await this.unscreened(), days);
    if (next !== undefined) await this.fingerprints.put(TILE_UNSCREENED_KEY, `${JSON.stringify(next)}\n`);
  }

  /** The stored rows of the `day` partitions given, as stored (no rollup mapping). */
  private storedRows(days: readonly string[]): string {
    if (days.length === 0) return noTilesSql(athenaDialect);
    return `(SELECT * FROM ${this.tiles} WHERE day IN (${days.map(stringLiteral).join(', ')}))`;
  }

  /** The days with tile files under `tiles/days/` (sorted). */
  private async storedDays(): Promise<string[]> {
    const days = new Set<string>();
    for (const key of await this.keysUnder(TILE_DAYS_PREFIX)) {
      const day = /^day=(\d{4}-\d{2}-\d{2})\//.exec(key.slice(TILE_DAYS_PREFIX.length))?.[1];
      if (day !== undefined) days.add(day);
    }
    return [...days].sort();
  }

  /** Every key under a prefix of the snapshots bucket. */
  private async keysUnder(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const page of objectsUnder(this.options.s3, this.bucket, prefix)) keys.push(...page.map((o) => o.key));
    return keys;
  }

  /** Deletes keys, 1,000 a call. */
  private async deleteKeys(keys: readonly string[], what: string): Promise<void> {
    for (let i = 0; i < keys.length; i += 1_000) await deleteObjects(this.options.s3, this.bucket, keys.slice(i, i + 1_000), what);
  }

  /** The stored fingerprint of a day, if its tile exists. */
  async fingerprint(day: string): Promise<TileFingerprint | undefined> {
    const bytes = await this.fingerprints.get(fingerprintKey(day));
    return bytes === undefined ? undefined : (JSON.parse(new TextDecoder().decode(bytes)) as TileFingerprint);
  }

  /**
   * The UTC days of the valid events of added lake files, for one refresh: one query over those
   * files only (the listing's {@link ListedLake.eventsOf}); asked again for files it already read
   * (the tile days after the index days: the same files), it answers from that query. The answer
   * covers every file read so far, so a day may be rebuilt that did not need it, never the
   * reverse. Undefined when the lake cannot read files on their own.
   */
  private touchedDays(lake: ListedLake, scanned: (bytes: number) => void) {
    const asked = new Set<string>();
    let answer: Promise<ReadonlySet<string> | undefined> | undefined;
    return (added: readonly InputFile[]): Promise<ReadonlySet<string> | undefined> => {
      if (answer !== undefined && added.every((f) => asked.has(f.path))) return answer;
      for (const f of added) asked.add(f.path);
      const files = lake.events.filter((o) => asked.has(o.key));
      const eventsOf = lake.eventsOf;
      answer =
        files.length === 0 || eventsOf === undefined
          ? Promise.resolve(undefined)
          : (async () => {
              const result = await this.options.runner.query(validDaysSql(athenaDialect, await eventsOf(files)));
              scanned(result.statistics.dataScannedInBytes);
              return new Set(result.rows.flatMap(([day]) => (day === null || day === undefined ? [] : [day])));
            })();
      return answer;
    };
  }

  /** The contested copies with the lake's column types. */
  private contestedEvents(): string {
    return `(SELECT ${readSelect(CONTESTED_TABLE_COLUMNS)} FROM ${this.contested})`;
  }

  /**
   * Builds the tiles of nearby days with one INSERT over their partitions: their fingerprints and
   * files are deleted first, their fingerprints written once the rows are in.
   */
  private async build(batch: readonly Build[], measures: readonly TileMeasure[], lake: ListedLake, run: (sql: string) => Promise<void>) {
    const days = batch.map((b) => b.fingerprint.day);
    await deleteObjects(this.options.s3, this.bucket, days.map(fingerprintKey), 'stale tile fingerprints');
    for (const day of days) await deletePrefix(this.options.s3, this.bucket, `${TILE_DAYS_PREFIX}day=${day}/`, `the tile of ${day}`);
    const partials = dayTilesSql({
      measures,
      dialect: athenaDialect,
      events: lake.view.relations.events,
      days,
      contested: this.relations([]).contestedIds,
    });
    await run(
      this.insert(this.tiles, [...TILE_TABLE_COLUMNS, TILE_DAY_COLUMN], partials, `day IN (${days.map(stringLiteral).join(', ')})`),
    );
    for (const { fingerprint } of batch)
      await this.fingerprints.put(fingerprintKey(fingerprint.day), `${JSON.stringify(fingerprint, null, 2)}\n`);
  }

  /** `INSERT INTO <table> (<columns>) SELECT <stored columns> FROM (<sql>) [WHERE <filter>]`, the body on lines of its own. */
  private insert(table: string, columns: readonly StoredColumn[], sql: string, filter?: string): string {
    const names = columns.map((c) => identifier(c.name)).join(', ');
    return (
      `INSERT INTO ${table} (${names})\nSELECT ${storedSelect(columns)}\nFROM (\n${sql}\n) AS rows_to_store` +
      (filter === undefined ? '' : `\nWHERE ${filter}`)
    );
  }
}

/** Where a day's fingerprint lives in the snapshots bucket. */
export const fingerprintKey = (day: string) => `${TILE_FINGERPRINTS_PREFIX}${day}.json`;

/**
 * The files added to a stored day's inputs when they are its only change (every stored file still
 * there unchanged, same measures and contested ids): the day is kept if none of them holds a valid
 * event of it. Undefined otherwise.
 */
function keptFor(stored: TileFingerprint | undefined, current: TileFingerprint): InputFile[] | undefined {
  if (stored === undefined) return undefined;
  const added = addedInputs(stored.inputs, current.inputs);
  if (added === undefined || added.length === 0) return undefined;
  return tileStatus({ ...stored, inputs: current.inputs }, current).status === 'fresh' ? added : undefined;
}

/** Stale days grouped for INSERTs: runs of days at most {@link MERGE_GAP_DAYS} apart, at most {@link MAX_DAYS_PER_INSERT} each. */
export function batches<T extends { readonly fingerprint: { readonly day: string } }>(sorted: readonly T[]): T[][] {
  const groups: T[][] = [];
  let previous: number | undefined;
  for (const item of sorted) {
    const start = Date.parse(`${item.fingerprint.day}T00:00:00Z`);
    const last = groups.at(-1);
    if (last && previous !== undefined && start - previous <= MERGE_GAP_DAYS * DAY_MS && last.length < MAX_DAYS_PER_INSERT) last.push(item);
    else groups.push([item]);
    previous = start;
  }
  return groups;
}

const digest = (ids: readonly string[]) =>
  createHash('sha256')
    .update([...ids].sort().join('\n'))
    .digest('hex');
