import { setTimeout as sleep } from 'node:timers/promises';
import { type EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { type CohortEvent, type CohortEvents, EVENT_SOURCE } from '../deliver/events.ts';
import { awsCall } from './aws-call.ts';

/** PutEvents takes at most 10 entries a call. */
const BATCH_SIZE = 10;

/**
 * PutEvents takes at most 256 KB of entries a call, an entry counting the UTF-8 bytes of its
 * Source, DetailType and Detail (EventBridge's "Calculating PutEvents event entry size").
 */
export const MAX_CALL_BYTES = 256 * 1024;

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
 * `InternalFailure` per entry, on every attempt. The other entries were put; retrying the step puts them
 * again, so consumers deduplicate on (cohort, version), (cohort, version, person_id) or (path, run_id).
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

/** How refused entries are put again. */
export interface PublishRetries {
  /** Calls after the first for the entries still refused. @default 3 */
  readonly attempts?: number;
  /** Wait before the first retry, doubled before each next one. @default 200 */
  readonly baseDelayMs?: number;
}

/** One entry to put and where it stood in the list given to `publish`. */
interface Pending {
  readonly index: number;
  readonly event: CohortEvent;
  readonly entry: PutEventsRequestEntry;
  readonly bytes: number;
}

const utf8Bytes = (text: string | undefined) => (text === undefined ? 0 : Buffer.byteLength(text, 'utf8'));

/** Puts cohort events on an EventBridge bus: at most ten entries and 256 KB a call, refused entries put again. */
export class EventsPublisher implements CohortEvents {
  private readonly attempts: number;
  private readonly baseDelayMs: number;

  constructor(
    private readonly client: EventBridgeClient,
    /** The bus name or ARN; undefined for the account's default bus. */
    private readonly eventBusName?: string,
    retries: PublishRetries = {},
  ) {
    this.attempts = retries.attempts ?? 3;
    this.baseDelayMs = retries.baseDelayMs ?? 200;
  }

  /**
   * Puts every event, in order, batch after batch. Entries a call refused are put again (alone
   * with the other refused ones, after a growing wait); those still refused after the last attempt
   * raise {@link EventPublishError} once every batch was tried, so nothing is dropped silently.
   */
  async publish(events: readonly CohortEvent[]): Promise<void> {
    const failures: FailedEvent[] = [];
    const pending = events.map((event, index): Pending => {
      const entry = this.entry(event);
      return { index, event, entry, bytes: utf8Bytes(entry.Source) + utf8Bytes(entry.DetailType) + utf8Bytes(entry.Detail) };
    });
    for (const batch of batches(pending)) failures.push(...(await this.putWithRetries(batch)));
    if (failures.length > 0) throw new EventPublishError(failures);
  }

  /** Puts one batch, then its refused entries again, up to the attempts allowed; returns those never accepted. */
  private async putWithRetries(batch: readonly Pending[]): Promise<FailedEvent[]> {
    let left = batch;
    let failures: FailedEvent[] = [];
    for (let attempt = 0; left.length > 0 && attempt <= this.attempts; attempt++) {
      if (attempt > 0) await sleep(this.baseDelayMs * 2 ** (attempt - 1));
      failures = await this.put(left);
      const refused = new Set(failures.map((f) => f.index));
      left = left.filter((p) => refused.has(p.index));
    }
    return failures;
  }

  /** One PutEvents call; the entries it refused. */
  private async put(batch: readonly Pending[]): Promise<FailedEvent[]> {
    const out = await awsCall('EventBridge.PutEvents', () =>
      this.client.send(new PutEventsCommand({ Entries: batch.map((p) => p.entry) })),
    );
    if (!out.FailedEntryCount) return [];
    // Result entries are in request order; a refused one carries an ErrorCode.
    const failures = batch.flatMap((p, i): FailedEvent[] => {
      const result = out.Entries?.[i];
      return result?.ErrorCode
        ? [{ index: p.index, detailType: p.event.detailType, errorCode: result.ErrorCode, errorMessage: result.ErrorMessage ?? '' }]
        : [];
    });
    if (failures.length > 0) return failures;
    // A count without per-entry codes: which ones failed is unknown, so the whole batch is.
    const message = `FailedEntryCount ${out.FailedEntryCount} without per-entry errors`;
    return batch.map((p) => ({ index: p.index, detailType: p.event.detailType, errorCode: 'Unknown', errorMessage: message }));
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

/** Consecutive runs of entries of at most BATCH_SIZE entries and MAX_CALL_BYTES each (an entry too big goes alone; EventBridge refuses it). */
function batches(pending: readonly Pending[]): Pending[][] {
  const out: Pending[][] = [];
  let batch: Pending[] = [];
  let bytes = 0;
  for (const p of pending) {
    if (batch.length > 0 && (batch.length === BATCH_SIZE || bytes + p.bytes > MAX_CALL_BYTES)) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(p);
    bytes += p.bytes;
  }
  if (batch.length > 0) out.push(batch);
  return out;
}
