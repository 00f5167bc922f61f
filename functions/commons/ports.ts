import { cloudDecisions } from '../../shared/governance/decision-command.ts';
import { deploymentStores } from '../../shared/cloud/deployment-stores.ts';
import { EventsPublisher } from '../../shared/cloud/events-publisher.ts';
import { s3Exports } from '../../shared/cloud/s3-exports.ts';
import { SnsNotifier } from '../../shared/cloud/sns-notifier.ts';
import { S3BlobStore } from '../../shared/cloud/s3-blob-store.ts';
import { secretPrivacyKey } from '../../shared/cloud/secret-privacy-key.ts';
import { DEFAULT_CONFIG } from '../../shared/config/config.ts';
import type { PrivacyPorts, TilesErasure } from '../../shared/privacy/ports.ts';
import { oneListing } from '../../shared/cloud/athena-listing.ts';
import { athenaStatement } from '../../shared/cloud/athena-statement.ts';
import { bucketConfig } from '../../shared/store/config-source.ts';
import { blobDefinitions } from '../../shared/store/definitions-source.ts';
import { LISTS_FOLDER } from '../../shared/language/uploaded-lists.ts';
import { blobFiles } from '../../shared/privacy/sweep.ts';
import { TileLease } from '../../shared/workflow/tile-lease.ts';
import type { AlertFailurePorts, DeliverPorts, FinishPorts, PlanPorts, SnapshotPorts, TilesPorts } from '../../shared/workflow/types.ts';
import { athena, eventBridge, glue, s3, secretsManager, sns } from './clients.ts';
import { readConfig, readDeliveryConfig, readEventBusConfig, readExportsBucket, readPrivacyKeySecret } from './config.ts';
import { invocationRemainingMs } from './invocation.ts';
import { once } from './once.ts';
import { logger } from './powertools.ts';

/**
 * The cloud ports of each step, built from the environment once per container over the SDK
 * clients of clients.ts: Athena as the query engine and evaluation lookup, the snapshots bucket
 * as the snapshot store (members as Parquet without DuckDB), SNS for alerts, S3 and EventBridge
 * for deliveries.
 */

/** What every step shares. */
const cloud = once(() => {
  const config = readConfig();
  return {
    config,
    // A failed write of a cohort's index of versions is logged, the refresh goes on (version-index.ts).
    // Athena waits end before the invocation does (invocation.ts).
    ...deploymentStores(
      config,
      { s3, athena, glue },
      { warn: (message, details) => logger.warn(message, details), remainingMs: () => invocationRemainingMs() },
    ),
    // The Chatbot variant when a Chatbot channel is subscribed to the alerts topic.
    notifier: new SnsNotifier(sns, config.ALERTS_TOPIC_ARN, { chatbot: config.ALERTS_FORMAT === 'chatbot' }),
  };
});

/**
 * The privacy rules over the snapshots bucket (`privacy/erasures/`, the
 * suppression list, `privacy/deletion-requests/`) and, for the steps that rewrite or check them,
 * the exports bucket; the key of erasure records from its Secrets Manager secret. The settings here are placeholders: every step applies those of its run,
 * which Plan read from the project config and the plan carries (see runPrivacy).
 */
function privacyPorts(exportsBucket?: string, tiles?: TilesErasure, withLists = false): PrivacyPorts {
  const { snapshots, store, codec, definitions } = cloud();
  return {
    settings: DEFAULT_CONFIG.privacy,
    blobs: snapshots,
    store,
    codec,
    keys: secretPrivacyKey(secretsManager, readPrivacyKeySecret()),
    ...(exportsBucket === undefined ? {} : { exports: new S3BlobStore(s3, { bucket: exportsBucket }) }),
    ...(tiles === undefined ? {} : { tiles }),
    // The uploaded lists: Plan's erasure rewrites them, Finish's check reads them.
    ...(withLists ? { lists: { files: blobFiles(definitions), prefix: `${LISTS_FOLDER}/` } } : {}),
  };
}

/** What Plan keeps per container: everything but the lake's listing. */
const planOnce = once(() => {
  const { engine, store, definitions, catalog, tilesOf } = cloud();
  return {
    definitions: blobDefinitions(definitions),
    config: bucketConfig(definitions),
    // The published catalog, approvals and audit trail live under catalog/ of the same bucket.
    governance: { catalog },
    // The definition versions it accepts are announced as `Definition Accepted`.
    events: new EventsPublisher(eventBridge, readEventBusConfig().EVENT_BUS_NAME),
    store,
    // Deletion requests are carried out before planning: versions, exports and tiles rewritten.
    // The tiles' erasure lists the lake (for its identity map) only when someone is forgotten, and
    // afresh each time: a warm container must not reuse an old listing.
    privacy: privacyPorts(readExportsBucket(), { forget: (forms) => tilesOf(oneListing(engine).lake).forget(forms) }, true),
  };
});

/**
 * Plan: definitions and the project config (`cohorts.config.yaml`) from their bucket, the lake and
 * source checks on Athena, versions from the snapshots bucket. Per invocation, one listing of the
 * lake: the plan's query and the source checks, whose kept parts (`checks/parts/`) are keyed by
 * the files it names, read the same one.
 */
export const planPorts = (): PlanPorts => {
  const { engine, sourceChecksOf } = cloud();
  const listing = oneListing(engine);
  return { ...planOnce(), engine: listing.engine, sourceChecks: sourceChecksOf(listing) };
};

/**
 * Tiles: the planned definitions (working ones from the bucket, kept ones from its catalog/), the
 * lake on Athena, the tiles in the snapshots bucket with their Glue table; the CTAS Evaluate runs;
 * the erasure records and their key.
 */
export const tilesPorts = (): TilesPorts => {
  const { config, engine, definitions, catalog, tilesOf } = cloud();
  // Per invocation, never per container: one fresh listing of the lake, read by the tiled query's
  // raw partitions and by the tile builds alike, whose fingerprints name the files it listed.
  const listing = oneListing(engine);
  return {
    definitions: blobDefinitions(definitions),
    governance: { catalog },
    engine: listing.engine,
    statement: athenaStatement({ database: config.GLUE_DATABASE }),
    tiles: tilesOf(listing.lake),
    // Tiles built from the lake leave forgotten people out again (the erasure records).
    privacy: privacyPorts(),
  };
};

/** Snapshot: reads its cohort from the run's evaluation table, writes a version without suppressed and forgotten people and publishes it. */
export const snapshotPorts = once((): SnapshotPorts => {
  const { engine, store, evaluations } = cloud();
  return { engine, store, evaluations, privacy: privacyPorts() };
});

/** Finish: releases the evaluation table, runs the privacy check over the run's versions and exports, and alerts. */
export const finishPorts = once((): FinishPorts => {
  const { engine, evaluations, notifier, catalog } = cloud();
  // Owners approve waiting definition changes against the deployment: `cohorts approve --cloud`.
  return { engine, evaluations, notifier, decisions: cloudDecisions(catalog), privacy: privacyPorts(readExportsBucket(), undefined, true) };
});

/** AlertFailure: the error alert, then (best effort) the release of the run's evaluation table. */
export const alertFailurePorts = once((): AlertFailurePorts => {
  const { engine, evaluations, notifier } = cloud();
  return { notifier, engine, evaluations };
});

/** The lease over the tile store (`tiles/lease.json` of the snapshots bucket): Plan takes it, ReleaseTiles (after Evaluate), Finish and AlertFailure give it back. */
export const tileLease = once((): TileLease => new TileLease(cloud().snapshots));

/** Deliver: reads a published version, exports it without suppressed and forgotten people to the exports bucket (CSV and Parquet) and publishes its event. */
export const deliverPorts = once((): DeliverPorts => {
  const { store, codec } = cloud();
  const delivery = readDeliveryConfig();
  return {
    events: new EventsPublisher(eventBridge, delivery.EVENT_BUS_NAME),
    store,
    exports: s3Exports(s3, { bucket: delivery.EXPORTS_BUCKET }, codec),
    privacy: privacyPorts(),
  };
});
