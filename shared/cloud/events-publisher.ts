import { type EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { type CohortEvent, type CohortEvents, EVENT_SOURCE } from '../deliver/events.ts';
import { awsCall } from './aws-call.ts';

/** PutEvents takes at most 10 entries a call. */
const BATCH_SIZE = 10;

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

/** Puts cohort events on an EventBridge bus, ten entries a call. */
export class EventsPublisher implements CohortEvents {
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
          failures.push({
            index: start + i,
            detailType: event.detailType,
            errorCode: result.ErrorCode,
            errorMessage: result.ErrorMessage ?? '',
          });
        }
      });
      if (failures.length === before) {
        // A count without per-entry codes: which ones failed is unknown, so report the batch.
        const message = `FailedEntryCount ${out.FailedEntryCount} without per-entry errors`;
        batch.forEach((event, i) => {
          failures.push({ index: start + i, detailType: event.detailType, errorCode: 'Unknown', errorMessage: message });
        });
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
