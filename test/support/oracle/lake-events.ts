import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type JsonValue, JsonNumber, parseJsonText } from './json-text.ts';

/**
 * The oracle's reading of an event lake (SPEC section 1), from the SPEC alone: JSONL and JSONL.gz
 * files only (the random and conformance lakes hold no Parquet), validity, timestamps, user_id
 * normalization, the identity map and duplicate event ids.
 */

/** A valid event as the rules see it (SPEC section 1); `ts` in microseconds since the epoch, UTC. */
export interface OracleEvent {
  readonly eventId: string;
  readonly source: string;
  readonly personId: string;
  readonly eventName: string;
  readonly ts: number;
  /** The top-level keys of `properties` (empty when it is absent, null or not an object). */
  readonly properties: ReadonlyMap<string, JsonValue>;
  readonly value: number | null;
}

/**
 * The valid events of a lake, de-duplicated by event_id (SPEC section 1: "a duplicate (same
 * event_id) counts once"). Copies that differ leave "which one counts ... unspecified": each such
 * event_id is one entry of `contested`, holding its distinct copies.
 */
export interface LakeEvents {
  readonly settled: readonly OracleEvent[];
  readonly contested: readonly (readonly OracleEvent[])[];
}

const MICROS_PER_MS = 1000;
/** SPEC section 1, `ts` in JSONL: `YYYY-MM-DDTHH:MM:SS[.f](Z|±HH:MM)`, at most 6 fraction digits. */
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/** Microseconds since the epoch of a JSONL `ts`, or undefined when it is unparsable (SPEC section 1). */
export function parseTimestamp(text: string): number | undefined {
  const parts = TIMESTAMP.exec(text);
  if (!parts) return undefined;
  const [year, month, day, hour, minute, second] = parts.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(ms);
  // A calendar date or time that does not exist (2023-02-29, 10:61) is unparsable, not rolled over.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const offsetHours = Number(parts[9] ?? 0);
  const offsetMinutes = Number(parts[10] ?? 0);
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  const offsetMs = (parts[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  const fraction = Number((parts[7] ?? '').padEnd(6, '0'));
  return (ms - offsetMs) * MICROS_PER_MS + fraction;
}

/** SPEC section 1, "Persons": trim ASCII white space (space, tab, CR, LF); lower-case when it holds `@`. */
export function normalizeId(id: string): string {
  const trimmed = id.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  return trimmed.includes('@') ? trimmed.toLowerCase() : trimmed;
}

/** Byte order of UTF-8 (SPEC sections 1 and 5). */
export const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

function filesIn(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith('.jsonl') || name.endsWith('.jsonl.gz'))
      .map((name) => join(dir, name));
  } catch {
    return [];
  }
}

/** The JSON objects of a JSONL file; a line that is not a JSON object is no row. */
function readObjects(file: string): ReadonlyMap<string, JsonValue>[] {
  const bytes = readFileSync(file);
  const text = (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  const objects: ReadonlyMap<string, JsonValue>[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      const parsed = parseJsonText(line, `${file}:${index + 1}`);
      if (parsed instanceof Map) objects.push(parsed);
    } catch {
      // Not JSON: an unreadable row counts as invalid, never as an event.
    }
  });
  return objects;
}

const text = (row: ReadonlyMap<string, JsonValue>, key: string): string | undefined => {
  const value = row.get(key);
  return typeof value === 'string' && value !== '' ? value : undefined;
};

/**
 * SPEC section 1, "Persons": (source, normalize(user_id)) -> person_id; rows with an empty
 * person_id are ignored; of several person_ids for one key the smallest in byte order wins.
 */
export function readIdentityMap(lake: string): ReadonlyMap<string, string> {
  const map = new Map<string, string>();
  for (const file of filesIn(join(lake, 'identities'))) {
    for (const row of readObjects(file)) {
      const source = row.get('source');
      const userId = row.get('user_id');
      const personId = text(row, 'person_id');
      if (typeof source !== 'string' || typeof userId !== 'string' || personId === undefined) continue;
      const key = `${source}\u0000${normalizeId(userId)}`;
      const known = map.get(key);
      if (known === undefined || byteOrder(personId, known) < 0) map.set(key, personId);
    }
  }
  return map;
}

/** One row as an event, or undefined when it is invalid (SPEC section 1: a missing or empty key field, an unparsable ts). */
function toEvent(row: ReadonlyMap<string, JsonValue>, identities: ReadonlyMap<string, string>): OracleEvent | undefined {
  const eventId = text(row, 'event_id');
  const source = text(row, 'source');
  const eventName = text(row, 'event_name');
  const rawUser = row.get('user_id');
  const userId = typeof rawUser === 'string' ? normalizeId(rawUser) : '';
  const rawTs = row.get('ts');
  const ts = typeof rawTs === 'string' ? parseTimestamp(rawTs) : undefined;
  if (eventId === undefined || source === undefined || eventName === undefined || userId === '' || ts === undefined) return undefined;
  const properties = row.get('properties');
  const value = row.get('value');
  return {
    eventId,
    source,
    // The person_id is used as written and looked up once, not transitively.
    personId: identities.get(`${source}\u0000${userId}`) ?? userId,
    eventName,
    ts,
    properties: properties instanceof Map ? properties : new Map(),
    value: value instanceof JsonNumber ? value.double : null,
  };
}

/** What makes two copies of an event_id the same event for every rule. */
function sameness(event: OracleEvent): string {
  const canon = (value: JsonValue): unknown =>
    value instanceof JsonNumber
      ? { n: value.written }
      : value instanceof Map
        ? [...value].map(([key, inner]) => [key, canon(inner)])
        : Array.isArray(value)
          ? value.map(canon)
          : value;
  return JSON.stringify([event.source, event.personId, event.eventName, event.ts, canon(event.properties), event.value]);
}

/** The valid, de-duplicated events of the lake at `lake` (every `events/dt=YYYY-MM-DD/` folder). */
export function readLakeEvents(lake: string): LakeEvents {
  const identities = readIdentityMap(lake);
  const byId = new Map<string, Map<string, OracleEvent>>();
  const partitions = readdirSync(join(lake, 'events')).filter((name) => /^dt=\d{4}-\d{2}-\d{2}$/.test(name));
  for (const partition of partitions) {
    for (const file of filesIn(join(lake, 'events', partition))) {
      for (const row of readObjects(file)) {
        const event = toEvent(row, identities);
        if (!event) continue;
        const copies = byId.get(event.eventId) ?? new Map<string, OracleEvent>();
        copies.set(sameness(event), event);
        byId.set(event.eventId, copies);
      }
    }
  }
  const settled: OracleEvent[] = [];
  const contested: OracleEvent[][] = [];
  for (const copies of byId.values()) {
    const distinct = [...copies.values()];
    if (distinct.length === 1) settled.push(distinct[0] as OracleEvent);
    else contested.push(distinct);
  }
  return { settled, contested };
}
