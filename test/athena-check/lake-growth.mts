/**
 * Files added to a case's lake between refreshes (tiles-check.mts, issues 14 and 15), so the cloud
 * paths that only run when the lake grows are checked: the kept day, a day rebuilt for late data,
 * the population index grown by one INSERT, the contested ids derived from the id index.
 *
 * Every added event is a copy of an event of the case's last lake day before its as-of day D (day L:
 * a JSON Lines line whose `event_id` and `ts` are strings, `ts` an instant), its other fields as
 * they are. The steps, in order, each followed by a refresh through the Athena tile store:
 *
 * 1. `tick`: a realtime tick. `dt=D/` gains a file of copies (new ids) moved into the first half of
 *    day D; refreshed at D 12:00. Day D-1 (whose tile reads partitions D-2..D) only gained a file
 *    holding none of its events: kept, one query over the added file, no tile built.
 * 2. `late`: `dt=D/` gains two files: copies (new ids) at day D 12:00-18:00 and, sorted last, copies
 *    (new ids) at their time of day on D-1 (late data within the SPEC's slack); refreshed at D 18:00.
 *    Day D-1 is rebuilt, and only it. A kept-day query that ignored the last added file would keep it.
 * 3. `new days`: `dt=D+1/` holds copies (new ids) at their time of day on D+1; refreshed at D+2
 *    00:00. Days D and D+1 are built, no day rebuilt, and the population index grows by one INSERT
 *    over the old index and the added days.
 * 4. `duplicates`: `dt=D+2/` holds copies of the same events with their own ids at their time of day
 *    on D+2 (a duplicate `event_id` across days, copies that differ); refreshed at D+3 00:00. The
 *    contested ids (derived from the id index) now hold them: day D+2 is built and day L rebuilt
 *    (`contested`), the contested copies rewritten, the population index built again.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** One step: the files it adds (lake keys, JSON Lines text), the refresh's instant, what the store must do. */
export interface GrowthStep {
  readonly name: 'tick' | 'late' | 'new days' | 'duplicates';
  readonly files: readonly { readonly key: string; readonly text: string }[];
  readonly asOf: number;
  /** The days the refresh must build (missing) and rebuild (stale), sorted. */
  readonly built: readonly string[];
  readonly rebuilt: readonly string[];
  /** Why the rebuilt days are stale (tileStatus's reason). */
  readonly reason?: 'inputs' | 'contested';
  /** Whether the contested copies must be rewritten (an INSERT INTO tiles_contested). */
  readonly contested: boolean;
  /** Whether a kept-day query must run (a query over the added files only), and no tile be inserted. */
  readonly kept: boolean;
  /** Whether the population index must grow by one INSERT reading the old index (else: built again or untouched). */
  readonly populationGrown: boolean;
}

interface Event {
  readonly fields: Record<string, unknown>;
  readonly ts: number;
}

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The JSON Lines events files of the lake (plain or `.gz`), every line that parses as an object with string event_id and ts. */
function lakeEvents(lakeDir: string): Event[] {
  const root = join(lakeDir, 'events');
  const events: Event[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.jsonl(\.gz)?$/.test(name)) {
        const bytes = readFileSync(path);
        const text = (name.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
        for (const line of text.split(/\r?\n/)) {
          try {
            const fields = JSON.parse(line) as Record<string, unknown>;
            const ts = typeof fields.ts === 'string' ? Date.parse(fields.ts) : Number.NaN;
            if (typeof fields.event_id === 'string' && Number.isFinite(ts)) events.push({ fields, ts });
          } catch {
            // Not an event line: not copied.
          }
        }
      }
    }
  };
  walk(root);
  return events;
}

/**
 * The steps for a lake whose as-of is `asOf` (a UTC midnight: day D starts there), or undefined when
 * the lake holds no copyable event before day D.
 */
export function growthSteps(lakeDir: string, asOf: number): GrowthStep[] | undefined {
  const d = Math.floor(asOf / DAY_MS) * DAY_MS;
  const before = lakeEvents(lakeDir).filter((e) => e.ts < d);
  if (before.length === 0) return undefined;
  const last = Math.floor(Math.max(...before.map((e) => e.ts)) / DAY_MS) * DAY_MS;
  const source = before.filter((e) => e.ts >= last);
  const copies = (tag: string | undefined, at: (timeOfDay: number) => number) =>
    `${source
      .map((e) => {
        const id = tag === undefined ? e.fields.event_id : `${e.fields.event_id}~${tag}`;
        return JSON.stringify({ ...e.fields, event_id: id, ts: new Date(at(e.ts - last)).toISOString() });
      })
      .join('\n')}\n`;
  const [dMinus1, dDay, d1, d2] = [dayOf(d - DAY_MS), dayOf(d), dayOf(d + DAY_MS), dayOf(d + 2 * DAY_MS)];
  const key = (day: string, name: string) => `events/dt=${day}/${name}`;
  return [
    {
      name: 'tick',
      files: [{ key: key(dDay, 'xcheck-tick-1.jsonl'), text: copies('tick1', (t) => d + t / 2) }],
      asOf: d + 12 * HOUR_MS,
      built: [],
      rebuilt: [],
      kept: true,
      populationGrown: false,
      contested: false,
    },
    {
      name: 'late',
      files: [
        { key: key(dDay, 'xcheck-tick-2a.jsonl'), text: copies('tick2', (t) => d + 12 * HOUR_MS + t / 4) },
        { key: key(dDay, 'xcheck-tick-2b.jsonl'), text: copies('late', (t) => d - DAY_MS + t) },
      ],
      asOf: d + 18 * HOUR_MS,
      built: [],
      rebuilt: [dMinus1],
      reason: 'inputs',
      kept: false,
      populationGrown: false,
      contested: false,
    },
    {
      name: 'new days',
      files: [{ key: key(d1, 'xcheck-day.jsonl'), text: copies('day', (t) => d + DAY_MS + t) }],
      asOf: d + 2 * DAY_MS,
      built: [dDay, d1],
      rebuilt: [],
      kept: false,
      populationGrown: true,
      contested: false,
    },
    {
      name: 'duplicates',
      files: [{ key: key(d2, 'xcheck-duplicates.jsonl'), text: copies(undefined, (t) => d + 2 * DAY_MS + t) }],
      asOf: d + 3 * DAY_MS,
      built: [d2],
      rebuilt: [dayOf(last)],
      reason: 'contested',
      kept: false,
      populationGrown: false,
      contested: true,
    },
  ];
}

/** Writes a step's files into the lake folder. */
export function addFiles(lakeDir: string, step: GrowthStep): void {
  for (const { key, text } of step.files) {
    const path = join(lakeDir, key);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
}
