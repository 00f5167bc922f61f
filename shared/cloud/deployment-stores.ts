import type { AthenaClient } from '@aws-sdk/client-athena';
import type { GlueClient } from '@aws-sdk/client-glue';
import type { S3Client } from '@aws-sdk/client-s3';
import { CatalogStore } from '../governance/catalog-store.ts';
import { LearningsStore } from '../learnings/learnings-store.ts';
import { ParquetMembersCodec } from '../store/parquet-members-codec.ts';
import { SnapshotStore } from '../store/snapshot-store.ts';
import type { IndexWarning } from '../store/version-index.ts';
import { AthenaEngine, type ListedLake } from './athena-engine.ts';
import { AthenaEvaluations } from './athena-evaluations.ts';
import { AthenaQueryRunner } from './athena-query.ts';
import { AthenaTileStore } from './athena-tile-store.ts';
import type { OneListing } from './athena-listing.ts';
import { athenaSourceChecks } from './athena-source-checks.ts';
import type { SourceCheckSource } from '../checks/source-check-source.ts';
import type { Deployment } from './environment.ts';
import { S3BlobStore } from './s3-blob-store.ts';
import { csvResultBatches } from './athena-result-rows.ts';

/** The SDK clients a deployment's stores call. */
export interface DeploymentClients {
  readonly s3: S3Client;
  readonly athena: AthenaClient;
  readonly glue: GlueClient;
}

/** A deployment's query engine and stores, as the Lambda steps and `cohorts ... --cloud` use them. */
export interface DeploymentStores {
  /** Athena over the lake's Glue tables. */
  readonly engine: AthenaEngine;
  /** Finds the table a run's Evaluate state kept. */
  readonly evaluations: AthenaEvaluations;
  /** Members as Parquet, in plain JavaScript (no DuckDB in a Lambda). */
  readonly codec: ParquetMembersCodec;
  /** The snapshots bucket. */
  readonly snapshots: S3BlobStore;
  /** Versions, manifests and current pointers in the snapshots bucket. */
  readonly store: SnapshotStore;
  /** The learnings library beside the snapshots. */
  readonly learnings: LearningsStore;
  /** The definitions bucket: the live catalog at its top level, uploads under `incoming/`. */
  readonly definitions: S3BlobStore;
  /** The published catalog, approvals and audit trail under `catalog/` of the definitions bucket. */
  readonly catalog: CatalogStore;
  /**
   * The daily tiles under `tiles/` of the snapshots bucket, built by Athena, over a given listing of
   * the lake: one per Tiles invocation (oneListing in athena-listing.ts).
   */
  readonly tilesOf: (lake: () => Promise<ListedLake>) => AthenaTileStore;
  /**
   * The Plan step's source checks, their parts kept under `checks/parts/` of the snapshots bucket,
   * over a given listing of the lake: one per Plan invocation (athena-source-checks.ts).
   */
  readonly sourceChecksOf: (listing: OneListing) => SourceCheckSource;
}

/** Builds a deployment's engine and stores over the clients given (one engine, two worlds: only this differs from the local ports). */
export function deploymentStores(
  deployment: Deployment,
  clients: DeploymentClients,
  options: {
    /** Told of a failed write of a cohort's index of versions (the Lambda steps: their powertools logger). @default - a line on stderr */
    readonly warn?: IndexWarning;
    /** How long the caller may still wait for a query (a Lambda invocation's remaining time, AthenaQueryRunner). @default - no limit but ATHENA_MAX_WAIT_MS */
    readonly remainingMs?: () => number | undefined;
  } = {},
): DeploymentStores {
  const runner = new AthenaQueryRunner(clients.athena, {
    workGroup: deployment.ATHENA_WORKGROUP,
    database: deployment.GLUE_DATABASE,
    ...(deployment.ATHENA_MAX_WAIT_MS === undefined ? {} : { maxWaitMs: deployment.ATHENA_MAX_WAIT_MS }),
    ...(options.remainingMs === undefined ? {} : { remainingMs: options.remainingMs }),
  });
  const codec = new ParquetMembersCodec();
  const snapshots = new S3BlobStore(clients.s3, { bucket: deployment.SNAPSHOTS_BUCKET });
  const definitions = new S3BlobStore(clients.s3, { bucket: deployment.DEFINITIONS_BUCKET });
  const engine = new AthenaEngine({
    runner,
    s3: clients.s3,
    glue: clients.glue,
    database: deployment.GLUE_DATABASE,
    lakeBucket: deployment.EVENT_LAKE_BUCKET,
    lakePrefix: deployment.EVENT_LAKE_PREFIX,
    resultsBucket: deployment.ATHENA_RESULTS_BUCKET,
  });
  const tilesOf = (lake: () => Promise<ListedLake>) =>
    new AthenaTileStore({
      runner,
      s3: clients.s3,
      database: deployment.GLUE_DATABASE,
      bucket: deployment.SNAPSHOTS_BUCKET,
      lake,
      manyRows: (sql, scanned) => csvResultBatches(runner, clients.s3, sql, scanned),
    });
  return {
    engine,
    evaluations: new AthenaEvaluations(runner, deployment.GLUE_DATABASE),
    codec,
    snapshots,
    store: new SnapshotStore(snapshots, codec, options.warn === undefined ? {} : { warn: options.warn }),
    learnings: new LearningsStore(snapshots),
    definitions,
    catalog: new CatalogStore(definitions),
    tilesOf,
    sourceChecksOf: (listing) =>
      athenaSourceChecks({
        engine: listing.engine,
        resultBatches: (sql) => engine.resultBatches(sql),
        lake: listing.lake,
        s3: clients.s3,
        snapshots,
        bucket: deployment.SNAPSHOTS_BUCKET,
        identityKeys: { unload: (sql, folder) => runner.unloadToParquet(sql, folder), database: deployment.GLUE_DATABASE },
      }),
  };
}
