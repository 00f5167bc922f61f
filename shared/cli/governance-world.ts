import { AthenaClient } from '@aws-sdk/client-athena';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { deploymentStores } from '../cloud/deployment-stores.ts';
import { SfnRefreshStarter } from '../cloud/sfn-refresh-starter.ts';
import { basename, dirname } from 'node:path';
import { CONFIG_FILE, loadConfig, type ProjectConfig } from '../config/config.ts';
import type { CatalogStore } from '../governance/catalog-store.ts';
import { cloudDecisions, type DecisionInstructions, LOCAL_DECISIONS } from '../governance/decision-command.ts';
import type { LearningsStore } from '../learnings/learnings-store.ts';
import { findLakeFiles } from '../local/lake-files.ts';
import { stateCatalog } from '../local/state-catalog.ts';
import type { DefinitionsSource, QueryEngine } from '../ports.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';
import type { RefreshStarter } from '../refresh-request.ts';
import type { ConfigLocation } from '../governance/pending-config.ts';
import { FsBlobStore } from '../local/fs-blob-store.ts';
import { bucketConfig } from '../store/config-source.ts';
import { blobDefinitions, folderDefinitions } from '../store/definitions-source.ts';
import { readCloudDeployment } from './cloud-deployment.ts';
import type { VersionQueryPlace } from './version-comparison.ts';
import type { Folders } from './io.ts';
import { localLearnings, openLocalContext } from '../local/local-context.ts';
import { CATALOG_PREFIX } from '../bucket-layout.ts';

/**
 * Where `plan`, `approve`, `reject` and `history` read and write: the local folders, or a
 * deployment's buckets and Athena (`--cloud`). The commands are the same code over either; only
 * this file chooses implementations.
 */
export interface GovernanceWorld {
  /** Where the published catalog lives, for messages: the state folder or the definitions bucket. */
  readonly where: string;
  /** The published catalog, its decisions and its audit trail. */
  readonly catalog: CatalogStore;
  /** The catalog the next refresh reads, which decisions are about: the definitions folder, or the bucket's live catalog. */
  readonly live: DefinitionsSource;
  /** How plans tell the owner to decide a waiting change here. */
  readonly decisions: DecisionInstructions;
  /** Starts a refresh here so an approval applies at once. @default - none: locally the next `cohorts run` applies it */
  readonly refresh?: RefreshStarter;
  /** Where the live project config is, which an approved config upload replaces. */
  readonly configFile: ConfigLocation;
  /** The project config the refreshes here apply (its guardrail settings). */
  config(): Promise<ProjectConfig>;
  /** The query engine over the current data (opened when first asked). */
  engine(): Promise<QueryEngine>;
  /** Where stored versions can be queried apart from this CLI: the deployment's Athena (cloud only). */
  readonly athena?: VersionQueryPlace;
  /** The snapshot store and the learnings library beside it. */
  stores(): Promise<{ readonly store: SnapshotStore; readonly learnings: LearningsStore }>;
}

const memo = <T>(open: () => Promise<T>): (() => Promise<T>) => {
  let opened: Promise<T> | undefined;
  return () => (opened ??= open());
};

/** The local world: the definitions folder, DuckDB over the lake folder, the state folder's catalog and snapshots. */
export function localGovernance(folders: Folders): GovernanceWorld {
  const context = memo(() => openLocalContext(folders));
  return {
    where: folders.state,
    catalog: stateCatalog(folders.state),
    live: folderDefinitions(folders.definitions),
    decisions: LOCAL_DECISIONS,
    configFile: { store: new FsBlobStore(dirname(folders.config)), key: basename(folders.config) },
    config: () => loadConfig(folders.config),
    engine: async () => {
      await findLakeFiles(folders.data);
      return (await context()).engine;
    },
    stores: async () => ({ store: (await context()).store, learnings: localLearnings(folders.state) }),
  };
}

/** What `--cloud` reads: the stack's outputs file, the environment, and what the command cannot do without. */
export interface CloudOptions {
  readonly stackOutputs?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** The command starts refreshes (approve): the state machine ARN is needed. */
  readonly startsRefreshes?: boolean;
}

/**
 * The cloud world (`--cloud`): the deployment's definitions bucket (live catalog and `catalog/`),
 * Athena over the lake and the snapshots bucket, built by the same deploymentStores the Lambda
 * steps use, over SDK clients with the caller's credentials and region.
 */
export async function cloudGovernance(options: CloudOptions): Promise<GovernanceWorld> {
  const env = options.env ?? process.env;
  const deployment = await readCloudDeployment({
    env,
    ...(options.stackOutputs === undefined ? {} : { stackOutputs: options.stackOutputs }),
    ...(options.startsRefreshes ? { needs: ['STATE_MACHINE_ARN'] as const } : {}),
  });
  const stores = deploymentStores(deployment, { s3: new S3Client({}), athena: new AthenaClient({}), glue: new GlueClient({}) });
  const arn = deployment.STATE_MACHINE_ARN;
  return {
    where: stores.definitions.locate(CATALOG_PREFIX),
    catalog: stores.catalog,
    live: blobDefinitions(stores.definitions),
    decisions: cloudDecisions(stores.catalog),
    configFile: { store: stores.definitions, key: CONFIG_FILE },
    ...(options.startsRefreshes && arn ? { refresh: new SfnRefreshStarter(new SFNClient({}), arn) } : {}),
    // What the Plan step applies: cohorts.config.yaml of the definitions bucket.
    config: bucketConfig(stores.definitions),
    engine: async () => stores.engine,
    athena: { workgroup: deployment.ATHENA_WORKGROUP, database: deployment.GLUE_DATABASE },
    stores: async () => ({ store: stores.store, learnings: stores.learnings }),
  };
}
