import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { access, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { duckdbDialect } from '../compiler/duckdb-dialect.ts';
import { identifier, stringLiteral } from '../compiler/sql-text.ts';
import type { ResultBatch } from '../checks/kept-source-checks.ts';
import type { MetricColumns } from '../compiler/compile-refresh.ts';
import {
  type CohortKpiTotals,
  type EvaluationRef,
  type LakeView,
  type MembersCodec,
  partitionsIn,
  type ProgressListener,
  type QueryEngine,
} from '../ports.ts';
import { duckdbLakeRelations, fileList } from './duckdb-lake.ts';
import { duckdbListsRelation, findListFiles } from './duckdb-lists.ts';
import { GzipCheck } from './gzip-check.ts';
import { findLakeFiles, type LocalListedLake } from './lake-files.ts';
import { findRefusedFiles } from './refused-files.ts';
import { lakeFileError, readParquetSchemas } from './parquet-columns.ts';
import { CARRIED_LATEST, LocalCarry } from './local-carry.ts';
import { LocalFractional } from './local-fractional.ts';
import { LocalPopulation } from './local-population.ts';
import { LocalTileExpiry } from './local-tile-expiry.ts';
import { type LocalLakeEngine, LocalTiles } from './local-tile-store.ts';
import { LocalTileStore } from './local-tiles.ts';
import { isUniqueInByteOrder, ParquetMembersCodec, readMembersFile } from '../store/parquet-members-codec.ts';

/** A failure to read a lake file becomes one line naming the file. */
const rethrowLakeError = (error: unknown): never => {
  throw lakeFileError(error) ?? error;
};

/**
 * From this many bytes on, a members file is decoded by DuckDB's Parquet reader (see DuckDbEngine's
 * `decode`); below, in JavaScript, which costs less than a scratch file and a query. Measured (CPU ms of
 * one decode, JavaScript against DuckDB without its sort, ids of 8 characters, load 7 to 9): 100 ids (0.6 kB) 0.9
 * against 5.6, 1,000 ids (4.4 kB) 3.1 against 4.6, 5,000 ids (23 kB) 9.6 against 3.3, 20,000 ids
 * (91 kB) 16.5 against 7.7, 135,000 ids (611 kB) 149 against 83; with the sort, 5,000 ids 6.4 against 5.9,
 * 135,000 ids 142 against 120 (wall 404 against 319 ms).
 */
export const DUCKDB_DECODE_BYTES = 16 * 1024;

/** The local query engine: DuckDB over a lake folder. Also encodes members as Parquet. */
export class DuckDbEngine implements QueryEngine, MembersCodec {
  readonly dialect = duckdbDialect;
  readonly name: string;
  private readonly writer = new ParquetMembersCodec();
  private readonly gzip: GzipCheck;

  constructor(
    private readonly connection: DuckDBConnection,
    private readonly lakeDir: string,
    version = 'duckdb',
    /** The state folder: member lists from elsewhere are written there while DuckDB decodes them, and the lake's gzip files found whole are remembered there (GzipCheck). @default - the system's temporary folder, and this engine's memory */
    private readonly scratch?: string,
    /** The definitions folder, whose `lists/<name>.csv` files are the lake's `lists` relation. @default - no uploaded lists */
    private readonly definitions?: string,
  ) {
    this.name = version;
    this.gzip = new GzipCheck(scratch);
  }

  /** The engine's name with DuckDB's version, for lineage. */
  static async describe(connection: DuckDBConnection): Promise<string> {
    const reader = await connection.runAndReadAll('SELECT version()');
    return `duckdb ${String(reader.getRows()[0]?.[0] ?? '')}`.trim();
  }

  /**
   * The daily tiles under `<stateDir>/tiles/`, built over this engine's lake with its connection;
   * `onProgress`: a build's batches; `over`: the engine they list the lake with (one listing of a step).
   */
  tiles(stateDir: string, onProgress?: ProgressListener, over: LocalLakeEngine = this): LocalTiles {
    return new LocalTiles(
      new LocalTileStore(this.connection, stateDir, onProgress ? { onProgress } : {}),
      over,
      this.lakeDir,
      new LocalTileExpiry(this.connection, stateDir),
      new LocalPopulation(this.connection, stateDir),
      new LocalCarry(this.connection, stateDir),
      new LocalFractional(this.connection, stateDir),
      new LocalCarry(this.connection, stateDir, CARRIED_LATEST),
    );
  }

  async lake(): Promise<LakeView> {
    return (await this.listLake()).view;
  }

  /** {@link lake} with the files of the one listing its relations name (the tile fingerprints' inputs). */
  async listLake(): Promise<LocalListedLake> {
    const files = await findLakeFiles(this.lakeDir);
    await this.gzip.verify([...files.events.jsonl, ...files.identities.jsonl]);
    const read = async (sql: string) => (await this.connection.runAndReadAll(sql)).getRows();
    const schemas = await readParquetSchemas(read, [...files.events.parquet, ...files.identities.parquet], fileList);
    const { events, identities, warnings } = duckdbLakeRelations(files, schemas);
    const refused = await findRefusedFiles(files.root);
    const view: LakeView = {
      ...(refused ? { refused } : {}),
      relations: {
        events,
        identities,
        ...(this.definitions === undefined ? {} : { lists: duckdbListsRelation(await findListFiles(this.definitions)) }),
      },
      warnings: [...files.skipped.map((entry) => `${entry} is not a dt=YYYY-MM-DD folder: not read`), ...warnings],
      inputs: (range) => {
        return [
          { table: 'events', location: join(files.root, 'events'), partitions: partitionsIn(files.partitions, range) },
          { table: 'identities', location: join(files.root, 'identities'), partitions: [] },
        ];
      },
    };
    return { view, files };
  }

  async evaluate(sql: string, runId: string): Promise<EvaluationRef> {
    const table = identifier(`membership_${runId.toLowerCase().replace(/[^a-z0-9]/g, '_')}`);
    await this.connection.run(`CREATE OR REPLACE TEMP TABLE ${table} AS ${sql}`).catch(rethrowLakeError);
    const count = await this.connection.runAndReadAll(`SELECT count(*) FROM ${table}`);
    return { location: table, population: Number(count.getRows()[0]?.[0] ?? 0) };
  }

  async members(result: EvaluationRef, column: string): Promise<string[]> {
    const reader = await this.connection.runAndReadAll(
      `SELECT person_id FROM ${this.resultTable(result)} WHERE ${identifier(column)} ORDER BY person_id`,
    );
    // By column: a row array per member cost about twice the CPU (3.3 against 1.9 s for 3.2M ids).
    return (reader.getColumns()[0] ?? []).map(String);
  }

  async kpis(result: EvaluationRef, column: string, metrics: MetricColumns): Promise<CohortKpiTotals> {
    const reader = await this.connection.runAndReadAll(
      `SELECT count(*) AS size, count_if(${identifier(metrics.activated)}) AS activated, coalesce(sum(${identifier(metrics.value)}), 0) AS value_sum ` +
        `FROM ${this.resultTable(result)} WHERE ${identifier(column)}`,
    );
    const [size, activated, valueSum] = reader.getRows()[0] ?? [];
    return { size: Number(size ?? 0), activated: Number(activated ?? 0), value_sum: Number(valueSum ?? 0) };
  }

  async release(result: EvaluationRef): Promise<void> {
    await this.connection.run(`DROP TABLE IF EXISTS ${this.resultTable(result)}`);
  }

  async rows(sql: string): Promise<Record<string, unknown>[]> {
    return (await this.connection.runAndReadAll(sql).catch(rethrowLakeError)).getRowObjects();
  }

  /**
   * A query's rows chunk by chunk, read by position: only the values a caller reads are made
   * JavaScript values (a result of many rows and columns, such as the source checks' by parts).
   */
  async *batches(sql: string): AsyncGenerator<ResultBatch> {
    const result = await this.connection.stream(sql).catch(rethrowLakeError);
    const columns = result.columnNames();
    for (;;) {
      const chunk = await result.fetchChunk().catch(rethrowLakeError);
      if (chunk === null || chunk.rowCount === 0) return;
      const vectors = columns.map((_, i) => chunk.getColumnVector(i));
      yield { columns, rowCount: chunk.rowCount, value: (row, column) => vectors[column]?.getItem(row) ?? null };
    }
  }

  /** A result location is a table name this engine made; anything else is refused. */
  private resultTable(result: EvaluationRef): string {
    return identifier(result.location.replace(/^"|"$/g, ''));
  }

  /**
   * In JavaScript (ParquetMembersCodec, the file the Lambdas write): one person_id column, unique, in
   * byte order, as `COPY (SELECT DISTINCT person_id ... ORDER BY person_id)` wrote it, without a
   * table, a COPY and a scratch file per list (about 6 ms each, a third of publishing a version).
   */
  encode(personIds: readonly string[]): Promise<Uint8Array> {
    return this.writer.encode(personIds);
  }

  async decode(bytes: Uint8Array): Promise<string[]> {
    // A file of more than a few thousand ids is DuckDB's to read: its reader, sort included, takes less
    // CPU than JavaScript's reading (see DUCKDB_DECODE_BYTES). A file DuckDB cannot read (not UTF-8)
    // is tried in JavaScript, as a small one is.
    if (bytes.byteLength >= DUCKDB_DECODE_BYTES) {
      const read = await this.readWithDuckDb(bytes).catch(() => undefined);
      if (read) return read;
    }
    // Read in JavaScript (no scratch file, a third of the work on a small list) when that gives what DuckDB's ORDER BY
    // would: a file this project wrote, one string column, unique and in byte order. Anything else
    // (a foreign file, duplicates, nulls, another type) is DuckDB's to read, as it always was.
    const read = await readMembersFile(bytes).catch(() => undefined);
    if (read && isUniqueInByteOrder(read)) return read;
    return this.readWithDuckDb(bytes);
  }

  /** A members file as DuckDB reads it (from a scratch copy): every row, ORDER BY person_id, each value as text. */
  private readWithDuckDb(bytes: Uint8Array): Promise<string[]> {
    return this.withScratch(async (file) => {
      await writeFile(file, bytes);
      const reader = await this.connection.runAndReadAll(
        `SELECT person_id FROM read_parquet(${stringLiteral(file)}, hive_partitioning = false) ORDER BY person_id`,
      );
      // By column: each string as it is, without the row arrays of getRows (120 against 343 ms CPU at 135k ids, load 7 to 9).
      return (reader.getColumns()[0] ?? []).map((id) => (typeof id === 'string' ? id : String(id)));
    });
  }

  /**
   * Runs `work` with a scratch Parquet file (a member list), removed after. Named `.tmp-*` in the
   * state folder, a killed command's copy is a leftover that the next run, `forget` and
   * `privacy-check` reach (shared/local/leftovers.ts); only a read-only state folder falls back
   * to the system's temporary folder.
   */
  private async withScratch<T>(work: (file: string) => Promise<T>): Promise<T> {
    const writable =
      this.scratch !== undefined &&
      (await access(this.scratch, constants.W_OK).then(
        () => true,
        () => false,
      ));
    const file = join(writable ? (this.scratch as string) : tmpdir(), `.tmp-${randomUUID()}.parquet`);
    try {
      return await work(file);
    } finally {
      await rm(file, { force: true });
    }
  }
}
