import { EventsPublisher } from '../../shared/cloud/events-publisher.ts';
import { S3BlobStore } from '../../shared/cloud/s3-blob-store.ts';
import { SnsNotifier } from '../../shared/cloud/sns-notifier.ts';
import { athenaStatement } from '../../shared/workflow/athena-statement.ts';
import type { DeliverPorts } from '../../shared/workflow/deliver-step.ts';
import { CatalogStore } from '../../shared/governance/catalog-store.ts';
import { blobDefinitions } from '../../shared/workflow/definitions-source.ts';
import type { AlertFailurePorts, FinishPorts, PlanPorts, SnapshotPorts } from '../../shared/workflow/types.ts';
import { eventBridge, s3, sns } from './clients.ts';
import { type Config, readConfig } from './config.ts';
import { readDeliveryConfig } from './delivery-config.ts';

/**
 * The cloud ports of each step, built from the environment once per container from what
 * shared/cloud provides. A port without a cloud adapter yet is `missing(...)`: building that
 * step's ports fails with an {@link AdapterMissingError} naming it, instead of pretending to work.
 */

/** A port a step needs has no cloud adapter yet. */
export class AdapterMissingError extends Error {
  override readonly name = 'AdapterMissingError';

  constructor(
    readonly step: string,
    readonly missing: readonly string[],
  ) {
    super(`${step} cannot run in the cloud yet; missing: ${missing.join('; ')}`);
  }
}

/** Cloud adapters the steps need that shared/cloud does not provide yet. */
export const MISSING_ADAPTERS = {
  engine:
    'QueryEngine on Athena: name and athenaDialect; lake() over the Glue tables (athenaLakeRelations) with the dt= ' +
    'partitions of the lake for lineage; members() and release() (DROP TABLE) on the evaluation_<run> table, built on AthenaQueryRunner',
  codec: 'MembersCodec that runs in Lambda (person_id Parquet encode/decode without DuckDB), which SnapshotStore needs',
  evaluations: 'EvaluationLookup on Athena: the evaluation_<run> table of a run and its population (OutputRows of GetQueryRuntimeStatistics)',
} as const;

type Missing = keyof typeof MISSING_ADAPTERS;

function missing(step: string, ...adapters: Missing[]): never {
  throw new AdapterMissingError(step, adapters.map((adapter) => MISSING_ADAPTERS[adapter]));
}

/** The alerts topic's notifier, with the Chatbot variant when a Chatbot channel is subscribed. */
const alertsNotifier = (config: Config) => new SnsNotifier(sns, config.ALERTS_TOPIC_ARN, { chatbot: config.ALERTS_FORMAT === 'chatbot' });

const once = <T>(build: () => T): (() => T) => {
  let built: { value: T } | undefined;
  return () => (built ??= { value: build() }).value;
};

/** Plan: definitions from the bucket and the CTAS statement exist; engine and snapshot store do not. */
export const planPorts = once((): PlanPorts => {
  const config = readConfig();
  const definitions = new S3BlobStore(s3, { bucket: config.DEFINITIONS_BUCKET });
  return {
    definitions: blobDefinitions(definitions),
    // The published catalog, approvals and audit trail live under catalog/ of the same bucket.
    governance: { catalog: new CatalogStore(definitions) },
    statement: athenaStatement({ database: config.GLUE_DATABASE }),
    // SnapshotStore(new S3BlobStore(s3, { bucket: config.SNAPSHOTS_BUCKET }), codec) once a codec exists.
    engine: missing('Plan', 'engine', 'codec'),
    store: missing('Plan', 'codec'),
  };
});

/** Snapshot: reads its cohort from the evaluation table and writes a version. */
export const snapshotPorts = once((): SnapshotPorts => {
  readConfig();
  return {
    engine: missing('Snapshot', 'engine', 'codec', 'evaluations'),
    store: missing('Snapshot', 'codec'),
    evaluations: missing('Snapshot', 'evaluations'),
  };
});

/** Finish: releases the evaluation table and alerts; the notifier exists. */
export const finishPorts = once((): FinishPorts => {
  const config = readConfig();
  return {
    notifier: alertsNotifier(config),
    engine: missing('Finish', 'engine', 'evaluations'),
    evaluations: missing('Finish', 'evaluations'),
  };
});

/**
 * AlertFailure: the SNS notifier is all it must have, and it exists. Releasing the evaluation
 * table is best effort and waits for the Athena engine and lookup; until then a failed run's table
 * files expire with the results bucket's lifecycle (its Glue entry stays).
 */
export const alertFailurePorts = once((): AlertFailurePorts => ({ notifier: alertsNotifier(readConfig()) }));

/**
 * Deliver: the events publisher exists; reading versions and writing Parquet exports wait for the
 * Lambda Parquet codec (SnapshotStore and s3Exports(s3, { bucket: EXPORTS_BUCKET }, codec) then).
 */
export const deliverPorts = once((): DeliverPorts => {
  readConfig();
  const delivery = readDeliveryConfig();
  return {
    events: new EventsPublisher(eventBridge, delivery.EVENT_BUS_NAME),
    store: missing('Deliver', 'codec'),
    exports: missing('Deliver', 'codec'),
  };
});
