import type { S3Client } from '@aws-sdk/client-s3';
import { SOURCE_CHECK_PARTS_PREFIX } from '../bucket-layout.ts';
import { KeptSourceChecks, type ListedFile, MAX_KEPT_WINDOW_BYTES, type ResultBatch } from '../checks/kept-source-checks.ts';
import type { QueryEngine } from '../ports.ts';
import type { ListedLake } from './athena-engine.ts';
import { athenaIdentityKeys } from './athena-identity-keys.ts';
import type { LakeObject } from './lake-objects.ts';
import { deleteObjects } from './s3-prefix.ts';
import type { S3BlobStore } from './s3-blob-store.ts';

/** What the cloud's source checks run on. */
export interface AthenaSourceChecksOptions {
  /** The run's engine (its `lake()` the same listing as {@link lake}). */
  readonly engine: QueryEngine;
  /** Reads a query's rows from its CSV result object in one GET, in batches, the first row its column names (AthenaEngine.resultBatches): the parts' statement, one row per event of the partitions computed. */
  readonly resultBatches: (sql: string) => AsyncIterable<readonly (readonly (string | null)[])[]>;
  /** The run's one listing of the lake (oneListing in athena-listing.ts): its files key the parts. */
  readonly lake: () => Promise<ListedLake>;
  readonly s3: S3Client;
  /** The snapshots bucket, as blobs: the parts under {@link SOURCE_CHECK_PARTS_PREFIX}. */
  readonly snapshots: S3BlobStore;
  /** The snapshots bucket's name (where the parts the window moved past are deleted). */
  readonly bucket: string;
  /**
   * Writes the identity map's keys as Parquet files under an S3 folder (Athena's `UNLOAD`,
   * AthenaQueryRunner.unloadToParquet) with {@link database}: the keys are kept
   * (athena-identity-keys.ts). @default - the map read in place by every statement that computes a part
   */
  readonly identityKeys?: { readonly unload: (sql: string, s3Folder: string) => Promise<unknown>; readonly database: string };
  /** Bytes of events files in the window above which the window is read at once. @default MAX_KEPT_WINDOW_BYTES */
  readonly maxWindowBytes?: number;
  /** How long a run may spend computing parts (ms). @default PLAN_COMPUTE_BUDGET_MS */
  readonly computeBudgetMs?: number;
}

/**
 * How long Plan's source checks spend computing parts in one run, at most (a batch started in time
 * runs to its end): a third of Plan's 120 s Lambda timeout (FUNCTION_TIMEOUT_SECONDS of
 * shared/workflow/step-limits.ts, a ring above: a test ties the two). A first computation of a big
 * window is one Athena statement per 32 MiB of files (some 96 at the 3 GiB limit), each with its
 * CSV result of one row per event, which could outlast Plan: past the budget the run reads the
 * window at once (one statement more) and the next run goes on from the parts kept.
 */
export const PLAN_COMPUTE_BUDGET_MS = 40_000;

/**
 * An event's 64-bit digest in Athena: xxhash64 of its source's length, the source and the
 * event_id (the length keeps ('ab', 'c') and ('a', 'bc') apart), as a bigint. A shared digest
 * only makes the checks read the window at once, which is exact either way.
 */
export const athenaEventKey = (source: string, eventId: string): string =>
  `from_big_endian_64(xxhash64(to_utf8(concat(CAST(length(${source}) AS varchar), ':', ${source}, ${eventId}))))`;

const listed = (o: LakeObject): ListedFile => ({ key: o.key, size: o.size, version: o.etag, ...(o.dt === undefined ? {} : { dt: o.dt }) });

/**
 * The Plan step's source checks in the cloud (issue 15): the kept parts of KeptSourceChecks in the
 * snapshots bucket (`checks/parts/dt=<d>.json` and its digests' object, per partition: a tick PUTs
 * only the parts it computed, usually today's, and reads of the others' digests the buckets its new
 * digests fall in, by ranged GETs), keyed by the partition's files in the run's listing (key,
 * size, ETag) and the identity map's, whose keys are kept under `checks/identity-keys/` when
 * {@link AthenaSourceChecksOptions.identityKeys} is given. The partitions to compute are read by one Athena statement
 * (their rows, ts spans and event digests, read from its CSV result in one GET) over manifests
 * naming their files only (ListedLake.eventsOf) and `dt IN (...)` their dates.
 */
export function athenaSourceChecks(options: AthenaSourceChecksOptions): KeptSourceChecks {
  const { s3, snapshots, bucket, identityKeys } = options;
  const identity =
    identityKeys === undefined
      ? undefined
      : athenaIdentityKeys({
          engine: options.engine,
          unload: identityKeys.unload,
          s3,
          bucket,
          blobs: snapshots,
          database: identityKeys.database,
        });
  return new KeptSourceChecks({
    ...(identity === undefined ? {} : { identity }),
    engine: options.engine,
    blobs: snapshots,
    prefix: SOURCE_CHECK_PARTS_PREFIX,
    remove: (keys) => deleteObjects(s3, bucket, keys, 'source-check parts the window moved past'),
    lake: async () => {
      const lake = await options.lake();
      return {
        events: lake.events.map(listed),
        identities: (lake.identities ?? []).map(listed),
        relations: lake.view.relations,
        eventsOf: async (files) => {
          if (lake.eventsOf === undefined) return lake.view.relations.events;
          const wanted = new Set(files.map((f) => f.key));
          return lake.eventsOf(lake.events.filter((o) => wanted.has(o.key)));
        },
      };
    },
    eventKey: athenaEventKey,
    partsRows: (sql) => csvBatches(options.resultBatches(sql)),
    readRange: (key, start, end) => snapshots.getRange(key, start, end),
    maxWindowBytes: options.maxWindowBytes ?? MAX_KEPT_WINDOW_BYTES,
    computeBudgetMs: options.computeBudgetMs ?? PLAN_COMPUTE_BUDGET_MS,
  });
}

/** A CSV result's rows as batches read by position, its first row the column names. */
async function* csvBatches(rows: AsyncIterable<readonly (readonly (string | null)[])[]>): AsyncGenerator<ResultBatch> {
  let columns: readonly string[] | undefined;
  for await (const batch of rows) {
    const data = columns === undefined ? batch.slice(1) : batch;
    columns ??= batch[0]?.map(String);
    if (columns !== undefined) yield { columns, rowCount: data.length, value: (row, column) => data[row]?.[column] ?? null };
  }
}
