import type { ApprovalDecision } from './records.ts';
import type { CatalogStore } from './catalog-store.ts';
import { HASH_PREFIX, NothingToDecideError } from './decide.ts';
import { GOVERNED_SECTIONS, type GovernedSection } from './governed-settings.ts';
import {
  CONFIG_DECISION_ID,
  configHash,
  type ConfigLocation,
  locatePendingConfig,
  type PendingConfig,
  pendingConfigKey,
} from './pending-config.ts';

async function readPendingConfig(config: ConfigLocation): Promise<PendingConfig | undefined> {
  const bytes = await config.store.get(pendingConfigKey(config));
  if (bytes === undefined) return undefined;
  const found = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<PendingConfig>;
  if (typeof found.text !== 'string' || typeof found.hash !== 'string' || found.hash !== configHash(found.text)) {
    throw new NothingToDecideError(
      `${locatePendingConfig(config)} is not a pending config this version wrote (its hash must be the sha256 of its text): upload the config again`,
    );
  }
  return found as PendingConfig;
}

/** One decision on the pending config as a person asks for it (see DecisionRequest). */
export interface ConfigDecisionRequest {
  readonly decision: ApprovalDecision['decision'];
  readonly by: string;
  readonly note: string;
  readonly at: string;
  /** The pending config reviewed: its hash or first 6 or more hex digits. @default - whichever waits now */
  readonly hash?: string;
}

/** A recorded decision on the pending config. */
export interface RecordedConfigDecision {
  readonly record: ApprovalDecision;
  /** Where the decision object lives. */
  readonly location: string;
  /** Approved: where the config now lives. */
  readonly promoted_to?: string;
  readonly sections: readonly GovernedSection[];
}

/**
 * Records an approval or rejection of the pending config in the catalog (keyed by its hash, once,
 * like a core cohort's). An approval then makes it the live config, which the next refresh reads;
 * a rejection leaves the live config. Refused (NothingToDecideError): nothing waits, `hash` names
 * another upload, or, for an approval, the live config changed since the upload (approving would
 * undo that change: upload again).
 */
export async function decidePendingConfig(
  request: ConfigDecisionRequest,
  ports: { readonly config: ConfigLocation; readonly catalog: CatalogStore },
): Promise<RecordedConfigDecision> {
  const verb = request.decision === 'approved' ? 'approve' : 'reject';
  if (request.hash !== undefined && !HASH_PREFIX.test(request.hash)) {
    throw new NothingToDecideError(
      `--hash must be the waiting config's hash or its first 6 or more hex digits (as the alert prints it), got "${request.hash}"`,
    );
  }
  const pending = await readPendingConfig(ports.config);
  const existing = pending && (await ports.catalog.decision(CONFIG_DECISION_ID, pending.hash));
  if (!pending || existing) {
    const last = existing
      ? ` (the last upload, ${pending?.hash.slice(0, 12)}, was ${existing.decision} by ${existing.by} at ${existing.at})`
      : '';
    throw new NothingToDecideError(
      `nothing to ${verb}: no config upload waits for an approval${last}; one waits when an upload changes ${GOVERNED_SECTIONS.join(' or ')}`,
    );
  }
  if (request.hash !== undefined && !pending.hash.startsWith(request.hash)) {
    throw new NothingToDecideError(
      `config ${request.hash} is not the one waiting: a newer upload (${pending.hash.slice(0, 12)}, changing ${pending.sections.join(' and ')}) replaced it; review that one (${locatePendingConfig(ports.config)}) and decide on it`,
    );
  }
  const { store, key } = ports.config;
  if (request.decision === 'approved') {
    const live = await store.get(key);
    const liveHash = live === undefined ? null : configHash(Buffer.from(live).toString('utf8'));
    if (liveHash !== pending.base) {
      throw new NothingToDecideError(
        `the live config ${store.locate(key)} changed since config ${pending.hash.slice(0, 12)} was uploaded, and approving it would undo that change: upload the config again over the live one`,
      );
    }
  }
  const record: ApprovalDecision = {
    cohort: CONFIG_DECISION_ID,
    hash: pending.hash,
    decision: request.decision,
    by: request.by,
    note: request.note,
    at: request.at,
  };
  await ports.catalog.decide(record);
  const location = ports.catalog.locateDecision(CONFIG_DECISION_ID, pending.hash);
  if (request.decision === 'rejected') return { record, location, sections: pending.sections };
  await store.put(key, pending.text);
  return { record, location, promoted_to: store.locate(key), sections: pending.sections };
}
