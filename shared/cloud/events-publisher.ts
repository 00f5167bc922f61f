import { type EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { Manifest } from '../store/manifest.ts';
import { awsCall } from './aws-call.ts';

/** `source` of every event this project puts on a bus; rules match on it. */
export const EVENT_SOURCE = 'cohort-refresh';

/** PutEvents takes at most 10 entries a call. */
const BATCH_SIZE = 10;

/** Where a cohort version's files live, as s3:// URIs. */
export interface CohortVersionLocations {
  /** The version's folder: `s3://<snapshots>/snapshots/cohort=<id>/version=<N>/`. */
  readonly snapshot: string;
  readonly manifest: string;
  readonly members: string;
  /** The exports' folder, when exports were written. */
  readonly exports?: string;
}

/** `detail` of `Cohort Refreshed` and `Cohort Held` (snake_case, like the manifest). */
export interface CohortVersionDetail {
  readonly cohort: string;
  readonly version: number;
  readonly status: 'published' | 'held';
  readonly as_of: string;
  readonly size: number;
  readonly entered: number;
  readonly exited: number;
  readonly previous_version: number | null;
  /** Names of the checks that warned or failed. */
  readonly warned_checks: readonly string[];
  readonly failed_checks: readonly string[];
  readonly run_id: string;
  readonly locations: CohortVersionLocations;
}

/** `detail` of `Definition Rejected`: a definition that did not validate or was refused (SPEC 3, 7). */
export interface DefinitionRejectedDetail {
  readonly status: 'rejected';
  /** The cohort id, when the file got far enough to have one. */
  readonly cohort: string | null;
  /** The definition's path, e.g. `definitions/power_users.yaml`. */
  readonly path: string;
  /** Where the definition lives: `s3://<definitions>/...`. */
  readonly location: string;
  /** `path:line:col: message` lines. */
  readonly errors: readonly string[];
  readonly run_id: string;
}

/** An event this project publishes: its detail type and detail. */
export type CohortEvent =
  | { readonly detailType: 'Cohort Refreshed'; readonly detail: CohortVersionDetail }
  | { readonly detailType: 'Cohort Held'; readonly detail: CohortVersionDetail }
  | { readonly detailType: 'Definition Rejected'; readonly detail: DefinitionRejectedDetail };

/** An entry EventBridge did not accept. */
export interface FailedEvent {
  /** Position in the list given to `publish`. */
  readonly index: number;
  readonly detailType: string;
  readonly errorCode: string;
  readonly errorMessage: string;
}

/**
 * EventBridge refused some entries (`FailedEntryCount` > 0), e.g. `ThrottlingException` or
 * `InternalFailure` per entry. The other entries were put; retrying the step puts them again, so
 * consumers deduplicate on (cohort, version) or (path, run_id).
 */
export class EventPublishError extends Error {
  override readonly name = 'EventPublishError';

  constructor(readonly failures: readonly FailedEvent[]) {
    super(
      `EventBridge refused ${failures.length} event(s): ` +
        failures.map((f) => `#${f.index} ${f.detailType}: ${f.errorCode} ${f.errorMessage}`).join('; '),
    );
  }
}

/** The event for a version just written: `Cohort Refreshed` when published, `Cohort Held` when held. */
export function cohortVersionEvent(manifest: Manifest, locations: CohortVersionLocations): CohortEvent {
  const detail: CohortVersionDetail = {
    cohort: manifest.cohort,
    version: manifest.version,
    status: manifest.status,
    as_of: manifest.as_of,
    size: manifest.size,
    entered: manifest.entered,
    exited: manifest.exited,
    previous_version: manifest.previous_version,
    warned_checks: manifest.checks.filter((c) => c.status === 'warn').map((c) => c.name),
    failed_checks: manifest.checks.filter((c) => c.status === 'fail').map((c) => c.name),
    run_id: manifest.lineage.run_id,
    locations,
  };
  return manifest.status === 'published' ? { detailType: 'Cohort Refreshed', detail } : { detailType: 'Cohort Held', detail };
}

/** Puts cohort events on an EventBridge bus, ten entries a call. */
export class EventsPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    /** The bus name or ARN; undefined for the account's default bus. */
    private readonly eventBusName?: string,
  ) {}

  /** Puts every event; raises {@link EventPublishError} listing the entries that were refused. */
  async publish(events: readonly CohortEvent[]): Promise<void> {
    const failures: FailedEvent[] = [];
    for (let start = 0; start < events.length; start += BATCH_SIZE) {
      const batch = events.slice(start, start + BATCH_SIZE);
      const out = await awsCall('EventBridge.PutEvents', () =>
        this.client.send(new PutEventsCommand({ Entries: batch.map((event) => this.entry(event)) })),
      );
      if (!out.FailedEntryCount) continue;
      // Result entries are in request order; a refused one carries an ErrorCode.
      const before = failures.length;
      batch.forEach((event, i) => {
        const result = out.Entries?.[i];
        if (result?.ErrorCode) {
          failures.push({ index: start + i, detailType: event.detailType, errorCode: result.ErrorCode, errorMessage: result.ErrorMessage ?? '' });
        }
      });
      if (failures.length === before) {
        // A count without per-entry codes: which ones failed is unknown, so report the batch.
        const message = `FailedEntryCount ${out.FailedEntryCount} without per-entry errors`;
        batch.forEach((event, i) => failures.push({ index: start + i, detailType: event.detailType, errorCode: 'Unknown', errorMessage: message }));
      }
    }
    if (failures.length > 0) throw new EventPublishError(failures);
  }

  private entry(event: CohortEvent): PutEventsRequestEntry {
    return {
      Source: EVENT_SOURCE,
      DetailType: event.detailType,
      Detail: JSON.stringify(event.detail),
      ...(this.eventBusName === undefined ? {} : { EventBusName: this.eventBusName }),
    };
  }
}
