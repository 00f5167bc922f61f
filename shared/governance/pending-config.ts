import { createHash } from 'node:crypto';
import { CONFIG_FILE } from '../config/config.ts';
import type { BlobStore } from '../ports.ts';
import type { GovernedSection } from './governed-settings.ts';

/**
 * The id `cohorts approve` and `reject` take for the waiting config upload. No cohort can have it
 * (cohort ids are snake_case, without dots), and its decisions sit beside the cohorts' in the catalog.
 */
export const CONFIG_DECISION_ID = CONFIG_FILE;

/** Where the live project config is: the definitions bucket's top level, or locally the `--config` file. */
export interface ConfigLocation {
  readonly store: BlobStore;
  readonly key: string;
}

/**
 * A config upload that changes `privacy` or `guardrails` and waits for an approval. One waits at
 * a time (a newer upload replaces it); it is waiting while no decision on its hash is recorded.
 */
export interface PendingConfig {
  /** sha256 of `text`: what `--hash` names and the decision is keyed by. */
  readonly hash: string;
  /** The uploaded config, exactly as uploaded: an approval makes it the live config. */
  readonly text: string;
  /** sha256 of the live config it was uploaded over (null: none): approving it over another live config is refused. */
  readonly base: string | null;
  /** The governed sections it changes. */
  readonly sections: readonly GovernedSection[];
  /** The upload's key and id (the S3 notification's event id), and when it was kept. */
  readonly upload: string;
  readonly upload_id: string;
  readonly at: string;
}

/** The key of the pending config, beside the live config: `pending/cohorts.config.yaml.json`. */
export const pendingConfigKey = (config: ConfigLocation) => `pending/${config.key}.json`;

/** sha256 of a config's text, hex. */
export const configHash = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Where the pending config is kept, for messages. */
export const locatePendingConfig = (config: ConfigLocation): string => config.store.locate(pendingConfigKey(config));

/** Keeps an upload as the pending config, replacing any that waited. */
export async function keepPendingConfig(config: ConfigLocation, pending: PendingConfig): Promise<void> {
  await config.store.put(pendingConfigKey(config), `${JSON.stringify(pending, null, 2)}\n`);
}
