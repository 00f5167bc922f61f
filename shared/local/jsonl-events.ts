import { join } from 'node:path';
import { appendJsonLines } from './append-json-lines.ts';
import { type CohortEvent, type CohortEvents, EVENT_SOURCE } from '../deliver/events.ts';

/**
 * Events of the local world: one line per event in the shape an EventBridge rule target
 * receives (`source`, `detail-type`, `time`, `detail`), appended to a file.
 */
export class JsonlEvents implements CohortEvents {
  constructor(
    /** The file events are appended to. */
    readonly file: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The event log of a state folder: `<state>/events.jsonl`. */
  static inState(state: string): JsonlEvents {
    return new JsonlEvents(join(state, 'events.jsonl'));
  }

  async publish(events: readonly CohortEvent[]): Promise<void> {
    const time = this.now().toISOString();
    await appendJsonLines(
      this.file,
      events.map((event) => ({ source: EVENT_SOURCE, 'detail-type': event.detailType, time, detail: event.detail })),
    );
  }
}
