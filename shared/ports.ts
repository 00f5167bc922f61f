import type { CompiledRefresh, LakeRelations, MetricColumns } from './compiler/compile-refresh.ts';
import type { Dialect } from './compiler/dialect.ts';
import type { ProjectConfig } from './config/config.ts';
import type { Catalog } from './language/catalog.ts';

/**
 * The ports of the engine. Every step is a function of (input, ports); the CLI and the Lambda
 * handlers only choose implementations: DuckDB or Athena, folders or S3, terminal or SNS.
 */

/** Keys and bytes: a folder locally, a bucket in the cloud. */
export interface BlobStore {
  /** The object's bytes, or undefined when there is none. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Writes (or replaces) an object; readers see the old or the new bytes, never a part. */
  put(key: string, body: Uint8Array | string): Promise<void>;
  /** Writes an object that must not exist yet; throws BlobExistsError when it does. */
  create(key: string, body: Uint8Array | string): Promise<void>;
  /** The object's bytes with the tag they were read at (for {@link putIfUnchanged}), or undefined when there is none. */
  getWithEtag(key: string): Promise<EtaggedBlob | undefined>;
  /**
   * Compare-and-swap: writes the object only if it is still as read, i.e. its tag is still
   * `expectedEtag`, or, when `expectedEtag` is undefined, it still does not exist. Returns the new
   * tag. A lost race (changed, created, deleted or being written since) raises
   * {@link ConcurrentUpdateError}: re-read and decide again.
   */
  putIfUnchanged(key: string, body: Uint8Array | string, expectedEtag: string | undefined): Promise<string>;
  /** Every key under a prefix, sorted. */
  list(prefix: string): Promise<string[]>;
  /** Where a key lives, for lineage and messages (a path or an s3:// URI). */
  locate(key: string): string;
}

/** An object's bytes with the tag (S3: its ETag) that changes whenever the object does. */
export interface EtaggedBlob {
  readonly body: Uint8Array;
  readonly etag: string;
}

/**
 * A conditional write lost a race: the object changed (or appeared, or vanished, or another
 * writer holds it) since it was read. Re-read and decide again; never retry the same write blindly.
 */
export class ConcurrentUpdateError extends Error {
  override readonly name = 'ConcurrentUpdateError';
}

/** Raised by `BlobStore.create` when the key exists: a version is never rewritten. */
export class BlobExistsError extends Error {
  override readonly name = 'BlobExistsError';
}

/** Turns member lists into Parquet bytes (one column person_id) and back. */
export interface MembersCodec {
  encode(personIds: readonly string[]): Promise<Uint8Array>;
  decode(bytes: Uint8Array): Promise<string[]>;
}

/** A table read by a refresh, for lineage. */
export interface LineageInput {
  readonly table: string;
  readonly location: string;
  readonly partitions: readonly string[];
}

/** The lake as one engine sees it. */
export interface LakeView {
  readonly relations: LakeRelations;
  /** The inputs a query over these partitions reads. */
  inputs(partitions: CompiledRefresh['partitions']): LineageInput[];
  /** What the reader leaves out or reads as NULL (folders that are not partitions, mistyped columns). */
  readonly warnings?: readonly string[];
  /** The files of records the ingestion refused (the lake's `events-errors/`); absent when it holds none. */
  readonly refused?: RefusedFiles;
}

/** The files under the lake's `events-errors/` (bucket-layout.ts), counted by the `lake.refused` check. */
export interface RefusedFiles {
  /** The folder or S3 URI of `events-errors/`, for the message. */
  readonly location: string;
  /** Per file, the UTC day it arrived (its `dt=` folder), in no order. */
  readonly days: readonly string[];
}

/** The `dt=<date>` partitions of a query's range among the dates a lake has, for {@link LakeView.inputs}. */
export function partitionsIn(dates: readonly string[], range: CompiledRefresh['partitions']): string[] {
  return dates.filter((dt) => (range.from === undefined || dt >= range.from) && dt <= range.to).map((dt) => `dt=${dt}`);
}

/** Where the result of a refresh's one query is kept until every cohort is snapshotted. */
export interface EvaluationRef {
  /** Engine-specific: a temporary table locally, an S3 prefix in the cloud. */
  readonly location: string;
  /** People in the population at T. */
  readonly population: number;
}

/** KPI totals of one cohort in a kept result. */
export interface CohortKpiTotals {
  /** Members of the cohort. */
  readonly size: number;
  /** Members who did the activation event in its window. */
  readonly activated: number;
  /** The members' values added up (a member without value events adds 0). */
  readonly value_sum: number;
}

/** Runs compiled SQL: DuckDB locally, Athena in the cloud. */
export interface QueryEngine {
  /** Name recorded in lineage, e.g. `duckdb v1.5.5`. */
  readonly name: string;
  readonly dialect: Dialect;
  lake(): Promise<LakeView>;
  /** Runs the one query of a refresh and keeps its result (one row per person, a boolean per cohort). */
  evaluate(sql: string, runId: string): Promise<EvaluationRef>;
  /** Members of one cohort column of a kept result, unique, in byte order. */
  members(result: EvaluationRef, column: string): Promise<string[]>;
  /** KPI totals of one cohort column of a kept result, aggregated from its metric columns in one small query. */
  kpis(result: EvaluationRef, column: string, metrics: MetricColumns): Promise<CohortKpiTotals>;
  /** Frees a kept result. */
  release(result: EvaluationRef): Promise<void>;
  /** Runs a small query (a few rows, such as the source checks) and returns its rows. */
  rows(sql: string): Promise<Record<string, unknown>[]>;
}

/** Progress of long work, for a progress bar or a log. */
export type ProgressListener = (step: string, done: number, total: number) => void;

/** What the Evaluate state leaves at `$.evaluation` (its ResultSelector), in both worlds. */
export interface EvaluationState {
  /** Athena's query execution id; locally an id the runner assigns. */
  readonly query_execution_id: string;
  /**
   * What the query read: Athena's `Statistics.DataScannedInBytes`; locally the sizes of the files it
   * reads (the Tiles step's estimate). Absent in states written before it was kept.
   */
  readonly data_scanned_bytes?: number;
}

/** Finds the result the Evaluate state kept, as the engine reads it. */
export interface EvaluationLookup {
  find(runId: string, evaluation: EvaluationState): Promise<EvaluationRef>;
}

/** The result the Evaluate state kept cannot be found (already released, or another run's). */
export class EvaluationNotFoundError extends Error {
  override readonly name = 'EvaluationNotFoundError';
}

/** Where the catalog comes from: a folder locally, the definitions bucket in the cloud. */
export type DefinitionsSource = () => Promise<Catalog>;

/** Where Plan reads the project config: `cohorts.config.yaml` of the definitions bucket in the cloud. */
export type ConfigSource = () => Promise<ProjectConfig>;

/** How bad an alert is: `fail` when a version was held, `error` when the pipeline broke. */
export type AlertSeverity = 'info' | 'warn' | 'fail' | 'error';

/** One alert per run (or per pipeline error), written for people first. */
export interface Alert {
  readonly severity: AlertSeverity;
  /** One line, no newline; e-mail subjects are cut to 100 characters. */
  readonly title: string;
  /** Plain text, readable in an e-mail or a terminal. */
  readonly body: string;
  readonly run_id?: string;
  /** Cohorts the alert is about (for filtering). */
  readonly cohorts: readonly string[];
  /** The step that failed, for pipeline errors. */
  readonly step?: string;
  /** Structured details for programmatic consumers. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Where alerts go: a file and the terminal locally, SNS (and Slack) in the cloud. */
export interface Notifier {
  notify(alert: Alert): Promise<void>;
}

/**
 * Where the HMAC key of erasure records is kept: never beside the records (anyone who can read
 * `privacy/` could otherwise hash every plausible id and re-identify who was forgotten). Locally
 * a file outside the state folder; in the cloud a Secrets Manager secret.
 */
export interface PrivacyKeySource {
  /**
   * The key ring: first the key new records are made with, then older keys kept only to recognise
   * the records made with them. Undefined when there is no key and `create` is false; with
   * `create`, a key is generated once where the source may.
   */
  load(create: boolean): Promise<readonly string[] | undefined>;
  /** Where the key is (a path, a secret's ARN), for messages; never the key. */
  readonly where: string;
}

/**
 * Every file of a store, as erasure and the privacy check sweep it: keys (crash leftovers such
 * as `.tmp-*` files included), their bytes, and, where the caller may, their deletion.
 */
export interface SweptFiles {
  /** Every key under a prefix, leftovers included, sorted. */
  list(prefix: string): Promise<string[]>;
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, body: Uint8Array | string): Promise<void>;
  /**
   * Deletes a crash leftover (never a file of a complete version). Absent where the caller may
   * not delete (the cloud functions: their roles hold no s3:DeleteObject); leftovers are then
   * rewritten without the person, or named as left.
   */
  remove?(key: string): Promise<void>;
  locate(key: string): string;
}
