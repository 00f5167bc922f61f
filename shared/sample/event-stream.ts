import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { FsBlobStore } from '../local/fs-blob-store.ts';

/** How `cohorts sample-data --stream` appends events. */
export interface EventStreamOptions {
  /** The lake folder; files go to `events/dt=YYYY-MM-DD/` of each file's UTC day. */
  readonly dir: string;
  /** Product users `u_000001` .. `u_<people>` (the sample lake's ids) the events come from. */
  readonly people: number;
  /** Pause between two files. */
  readonly intervalMs: number;
  /** Events per file. */
  readonly eventsPerFile: number;
  /** Stops the stream after the file being written (never half a file). */
  readonly signal: AbortSignal;
  /** The clock the events' `ts` and day come from. @default () => new Date() */
  readonly now?: () => Date;
  /** Called after each file is in place. */
  readonly onFile?: (path: string, events: number) => void;
}

/** What the stream wrote before it stopped. */
export interface EventStreamSummary {
  readonly files: number;
  readonly events: number;
}

const FEATURES = ['dashboards', 'reports', 'alerts', 'api', 'integrations', 'automation'];
const METHODS = ['password', 'sso', 'google'];

/** One product event of a random sample user at `at`, shaped like the sample lake's. */
function productEvent(people: number, at: Date): Record<string, unknown> {
  const pick = <T>(values: readonly T[]) => values[Math.floor(Math.random() * values.length)] as T;
  const user_id = `u_${String(1 + Math.floor(Math.random() * people)).padStart(6, '0')}`;
  const r = Math.random();
  const [event_name, properties] =
    r < 0.2
      ? ['login', { method: pick(METHODS) }]
      : r < 0.8
        ? ['feature_used', { feature: pick(FEATURES), duration_s: 5 + Math.floor(Math.random() * 600) }]
        : r < 0.9
          ? ['export_created', { format: pick(['csv', 'xlsx', 'pdf']), rows: 1 + Math.floor(Math.random() * 5000) }]
          : ['search_performed', { query: pick(['churn', 'invoice', 'seats', 'api key']) }];
  return { event_id: `s_${randomUUID()}`, source: 'product', user_id, event_name, ts: at.toISOString(), properties, value: null };
}

/**
 * Appends small JSON Lines files of realistic product events to today's partition until the
 * signal aborts. Each file is written under a temporary name and then linked into place
 * (FsBlobStore.create), so a reader, or an interrupted stream, never leaves or sees half a file.
 */
export async function streamSampleEvents(options: EventStreamOptions): Promise<EventStreamSummary> {
  const lake = new FsBlobStore(options.dir);
  const now = options.now ?? (() => new Date());
  let files = 0;
  let events = 0;
  while (!options.signal.aborted) {
    const at = now();
    const rows = Array.from({ length: options.eventsPerFile }, () => productEvent(options.people, at));
    const key = `events/dt=${at.toISOString().slice(0, 10)}/stream-${at.toISOString().replace(/[:.]/g, '')}-${randomUUID().slice(0, 8)}.jsonl`;
    await lake.create(key, `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`);
    files += 1;
    events += rows.length;
    options.onFile?.(lake.locate(key), rows.length);
    await sleep(options.intervalMs, undefined, { signal: options.signal }).catch(() => undefined);
  }
  return { files, events };
}
