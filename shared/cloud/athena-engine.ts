import { DeleteTableCommand, EntityNotFoundException, GetTableCommand, type GlueClient } from '@aws-sdk/client-glue';
import type { S3Client } from '@aws-sdk/client-s3';
import { athenaDialect } from '../compiler/athena-dialect.ts';
import type { MetricColumns } from '../compiler/compile-refresh.ts';
import { identifier } from '../compiler/sql-text.ts';
import { type CohortKpiTotals, type EvaluationRef, type LakeView, partitionsIn, type QueryEngine } from '../ports.ts';
import { uniqueInByteOrder } from '../store/parquet-members-codec.ts';
import { EVALUATION_TABLE_PREFIX, evaluationStatement } from './athena-statement.ts';
import { type AthenaLakeOptions, athenaLakeRelations } from './athena-lake.ts';
import { athenaCsvRows, type CsvRow } from './athena-csv.ts';
import { objectChunks } from './athena-result-rows.ts';
import type { AthenaQueryRunner } from './athena-query.ts';
import { evaluationPopulation } from './athena-evaluations.ts';
import { awsCall } from './aws-call.ts';
import { InvalidS3LocationError } from './errors.ts';
import { deleteObjects, deletePrefix } from './s3-prefix.ts';
import { lakeManifests, type ManifestLocation, writeLakeManifests } from './lake-manifests.ts';
import { type LakeObject, listLakeObjects } from './lake-objects.ts';
import { listRefusedObjects } from './refused-objects.ts';
import { withTsUnits } from './lake-ts-units.ts';
import { bucketName, keyPrefix, parseS3Uri } from './s3-uri.ts';
import { LAKE_FILES_PREFIX, RESULTS_PREFIX } from '../bucket-layout.ts';

/** What an {@link AthenaEngine} runs on and reads. */
export interface AthenaEngineOptions {
  /** Runs and waits for the queries, in the refresh's workgroup and Glue database. */
  readonly runner: AthenaQueryRunner;
  /** Lists the lake's partitions, reads result files, deletes released tables' files. */
  readonly s3: S3Client;
  /** Finds and removes the evaluation tables. */
  readonly glue: GlueClient;
  /** The Glue database of the lake's tables and of the evaluation tables. */
  readonly database: string;
  /** Table names other than the construct's. @default - the construct's: events_jsonl, events_parquet, identities_jsonl, identities_parquet */
  readonly tables?: Omit<AthenaLakeOptions, 'database'>;
  /** The bucket of the event lake. */
  readonly lakeBucket: string;
  /** Key prefix of the lake: `''` or ending in `/`. @default '' */
  readonly lakePrefix?: string;
  /** The workgroup's results bucket: a released table's files are deleted only when they lie in it. */
  readonly resultsBucket: string;
  /** Key prefix of the workgroup's results in that bucket. @default 'results/' */
  readonly resultsPrefix?: string;
  /** Bucket of the tables' manifests (and copies of hidden-named files). @default - the results bucket */
  readonly filesBucket?: string;
  /** Key prefix of the manifests in that bucket: the Glue tables' `storage.location.template`. @default 'lake-files/' */
  readonly filesPrefix?: string;
  /** Name recorded in lineage. @default 'athena engine v3' */
  readonly name?: string;
}

/** One listing of the lake: the view the queries read, and the events files it names. */
export interface ListedLake {
  readonly view: LakeView;
  /** Every events file of the listing (key, `dt`, ETag, size), sorted by key. */
  readonly events: readonly LakeObject[];
  /** Every identity map file of the listing (key, ETag, size). @default - not given */
  readonly identities?: readonly LakeObject[];
  /**
   * The events relation over only some files of {@link events} (a listing of their own: manifests
   * naming those files only), so a query reads them and nothing else. Absent: not available.
   */
  readonly eventsOf?: (files: readonly LakeObject[]) => Promise<string>;
}

const EVALUATION_TABLE = new RegExp(`^${EVALUATION_TABLE_PREFIX}[a-z0-9_]+$`);

/** An evaluation reference this engine did not make (or a table name that is not a run's). */
export class NotAnEvaluationError extends Error {
  override readonly name = 'NotAnEvaluationError';
}

/** The evaluation table a reference names; anything else is refused before it reaches SQL or Glue. */
export function evaluationTableOf(result: EvaluationRef): string {
  if (!EVALUATION_TABLE.test(result.location))
    throw new NotAnEvaluationError(`not an evaluation table: ${JSON.stringify(result.location)}`);
  return result.location;
}

/**
 * The cloud query engine: the compiler's Athena dialect over the Glue tables of the lake.
 *
 * - `lake()` lists the lake's files once (S3 ListObjectsV2: one call per 1,000 files) and writes the
 *   manifests the Glue tables read for this listing (one per table and `dt`, see lake-manifests.ts),
 *   so each format's reader gets exactly its own files, and lineage names the partitions that
 *   exist, as the local engine does. Each Parquet events file's footer is read (one ranged GET)
 *   for the unit its `ts` is stored in, which decides its manifest (lake-ts-units.ts).
 * - `evaluate()` is the Evaluate state's CTAS (`evaluation_<run>`), for in-process refreshes.
 * - `members()` runs `SELECT person_id ... WHERE <column>` and reads the query's CSV result object
 *   from S3 in one streamed GET, instead of paging GetQueryResults 1,000 rows a call (a million
 *   members would be a thousand sequential calls). Athena writes that file whatever the client;
 *   its format is quoted and exact for any text. Byte order is put in here, not trusted to SQL.
 *   The result object and its `.metadata` hold person ids: they are deleted once read (or once
 *   reading failed), not left to the results bucket's lifecycle rule.
 * - `release()` deletes the table's files (person ids of the whole population) and its Glue
 *   entry, straight through Glue and S3: no query, no wait, and a second release finds nothing.
 * - `kpis()` and `rows()` read a small SELECT through GetQueryResults; values are Athena's text.
 */
export class AthenaEngine implements QueryEngine {
  readonly dialect = athenaDialect;
  readonly name: string;
  private readonly lakeBucket: string;
  private readonly lakePrefix: string;
  private readonly resultsBucket: string;
  private readonly resultsPrefix: string;
  private readonly files: ManifestLocation;

  constructor(private readonly options: AthenaEngineOptions) {
    this.name = options.name ?? 'athena engine v3';
    this.lakeBucket = bucketName(options.lakeBucket);
    this.lakePrefix = keyPrefix(options.lakePrefix ?? '');
    this.resultsBucket = bucketName(options.resultsBucket);
    this.resultsPrefix = keyPrefix(options.resultsPrefix ?? RESULTS_PREFIX);
    this.files = {
      lakeBucket: this.lakeBucket,
      filesBucket: bucketName(options.filesBucket ?? options.resultsBucket),
      filesPrefix: keyPrefix(options.filesPrefix ?? LAKE_FILES_PREFIX),
    };
  }

  async lake(): Promise<LakeView> {
    return (await this.listLake()).view;
  }

  /** {@link lake} with the events files of the listing its relations read (the tile fingerprints' inputs). */
  async listLake(): Promise<ListedLake> {
    const { objects, skipped } = await listLakeObjects(this.options.s3, this.lakeBucket, this.lakePrefix);
    const read = await withTsUnits(this.options.s3, this.lakeBucket, objects);
    const manifests = lakeManifests(read, this.files);
    await writeLakeManifests(this.options.s3, this.files, manifests);
    const dates = [...new Set([...manifests.dates.jsonl, ...Object.values(manifests.dates.parquet).flat()])].sort();
    const root = `s3://${this.lakeBucket}/${this.lakePrefix}`;
    const refused = await listRefusedObjects(this.options.s3, this.lakeBucket, this.lakePrefix);
    const view: LakeView = {
      ...(refused ? { refused } : {}),
      relations: athenaLakeRelations({ database: this.options.database, ...this.options.tables }, manifests),
      inputs: (range) => [
        { table: 'events', location: `${root}events/`, partitions: partitionsIn(dates, range) },
        { table: 'identities', location: `${root}identities/`, partitions: [] },
      ],
      warnings: skipped.map((folder) => `s3://${this.lakeBucket}/${folder}/ is not a dt=YYYY-MM-DD folder: not read`),
    };
    const events = read.filter((o) => o.table === 'events');
    const eventsOf = async (files: readonly LakeObject[]) => {
      const only = lakeManifests(files, this.files);
      await writeLakeManifests(this.options.s3, this.files, only);
      return athenaLakeRelations({ database: this.options.database, ...this.options.tables }, only).events;
    };
    return { view, events, identities: read.filter((o) => o.table === 'identities'), eventsOf };
  }

  async evaluate(sql: string, runId: string): Promise<EvaluationRef> {
    const { queryId } = await this.options.runner.execute(evaluationStatement(this.options.database, runId, sql));
    return evaluationPopulation(this.options.runner, this.options.database, runId, queryId);
  }

  async members(result: EvaluationRef, column: string): Promise<string[]> {
    const table = `${identifier(this.options.database)}.${identifier(evaluationTableOf(result))}`;
    const execution = await this.options.runner.execute(`SELECT person_id FROM ${table} WHERE ${identifier(column)}`);
    const location = execution.outputLocation;
    if (!location) throw new Error(`Athena query ${execution.queryId} reported no result file`);
    let ids: string[];
    try {
      ids = await this.personIds(location);
    } catch (error) {
      // The reading error is the one to report; the lifecycle rule removes what this leaves.
      await this.deleteResult(location).catch(() => undefined);
      throw error;
    }
    await this.deleteResult(location);
    return uniqueInByteOrder(ids);
  }

  async kpis(result: EvaluationRef, column: string, metrics: MetricColumns): Promise<CohortKpiTotals> {
    const table = `${identifier(this.options.database)}.${identifier(evaluationTableOf(result))}`;
    const { rows } = await this.options.runner.query(
      `SELECT count(*) AS size, count_if(${identifier(metrics.activated)}) AS activated, coalesce(sum(${identifier(metrics.value)}), 0) AS value_sum ` +
        `FROM ${table} WHERE ${identifier(column)}`,
    );
    const [size, activated, valueSum] = (rows[0] ?? []).map((text) => Number(text ?? 0));
    const totals = { size: size ?? 0, activated: activated ?? 0, value_sum: valueSum ?? 0 };
    if (!Object.values(totals).every(Number.isFinite))
      throw new Error(`KPI totals of ${column} are not numbers: ${JSON.stringify(rows[0])}`);
    return totals;
  }

  async release(result: EvaluationRef): Promise<void> {
    const table = { DatabaseName: this.options.database, Name: evaluationTableOf(result) };
    const found = await this.glue('Glue.GetTable', () => this.options.glue.send(new GetTableCommand(table)));
    if (!found) return;
    const location = found.Table?.StorageDescriptor?.Location;
    if (location) await this.deleteFolder(location);
    await this.glue('Glue.DeleteTable', () => this.options.glue.send(new DeleteTableCommand(table)));
  }

  async rows(sql: string): Promise<Record<string, unknown>[]> {
    const { columns, rows } = await this.options.runner.query(sql);
    return rows.map((row) => Object.fromEntries(columns.map((name, i) => [name, row[i] ?? null])));
  }

  /**
   * A query's rows read from its CSV result object in one GET, not from GetQueryResults' pages of
   * 1,000 rows (for results of many rows that name no person: they are left to the results
   * bucket's lifecycle rule), as they arrive, in batches of positional values (text, null for
   * NULL), the first row the column names: a caller keeps what it needs of each row only.
   */
  async *resultBatches(sql: string): AsyncGenerator<CsvRow[]> {
    const execution = await this.options.runner.execute(sql);
    if (!execution.outputLocation) throw new Error(`Athena query ${execution.queryId} reported no result file`);
    yield* athenaCsvRows(await this.object(execution.outputLocation));
  }

  /** The person ids of a members query's CSV result, in the order Athena wrote them. */
  private async personIds(location: string): Promise<string[]> {
    const ids: string[] = [];
    let header = true;
    for await (const rows of athenaCsvRows(await this.object(location))) {
      for (const row of rows) {
        const [id, ...extra] = row;
        if (header) {
          if (id !== 'person_id' || extra.length > 0)
            throw new Error(`Athena result ${location} has columns ${row.join(', ')}, not person_id`);
          header = false;
        } else if (typeof id === 'string' && extra.length === 0) {
          ids.push(id);
        } else {
          throw new Error(`Athena result ${location} has a row that is not one person_id: ${JSON.stringify(row)}`);
        }
      }
    }
    return ids;
  }

  /** Deletes a query's result object and its `.metadata`, which must lie under the workgroup's results. */
  private async deleteResult(location: string): Promise<void> {
    const { bucket, key } = parseS3Uri(location);
    if (bucket !== this.resultsBucket || !key.startsWith(this.resultsPrefix)) {
      throw new InvalidS3LocationError(`a query result must lie under s3://${this.resultsBucket}/${this.resultsPrefix}, not ${location}`);
    }
    await deleteObjects(this.options.s3, bucket, [key, `${key}.metadata`], location);
  }

  /** A result object's bytes as they arrive. */
  private object(uri: string): Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array>> {
    return objectChunks(this.options.s3, uri);
  }

  /** Deletes every object of a released table's folder, which must lie under the workgroup's results. */
  private async deleteFolder(location: string): Promise<void> {
    const { bucket, key } = parseS3Uri(location.endsWith('/') ? location : `${location}/`);
    if (bucket !== this.resultsBucket || !key.startsWith(this.resultsPrefix) || key === this.resultsPrefix) {
      throw new InvalidS3LocationError(
        `an evaluation table's files must lie under s3://${this.resultsBucket}/${this.resultsPrefix}, not ${location}`,
      );
    }
    await deletePrefix(this.options.s3, bucket, key, location);
  }

  /** A Glue call; a table that is not there (any more) is undefined. */
  private async glue<T>(operation: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await awsCall(operation, call);
    } catch (error) {
      if (error instanceof EntityNotFoundException || (error as { name?: string }).name === 'EntityNotFoundException') return undefined;
      throw error;
    }
  }
}
