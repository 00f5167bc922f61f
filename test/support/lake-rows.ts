import { jsonMembers } from './json-members.ts';
import { numberText, tsMicros } from './spec-values.ts';

/** One events row as a Parquet lake holds it (SPEC section 1); `null` is SQL NULL. */
export interface EventRow {
  readonly event_id: string | null;
  readonly source: string | null;
  readonly user_id: string | null;
  readonly event_name: string | null;
  /** Epoch microseconds, UTC. */
  readonly ts: bigint | null;
  /** The object's text exactly as the JSONL line wrote it. */
  readonly properties: string | null;
  readonly value: number | null;
}

/** One identities row (SPEC section 1). */
export interface IdentityRow {
  readonly source: string | null;
  readonly user_id: string | null;
  readonly person_id: string | null;
}

/** A JSONL line holds something a Parquet lake has no equivalent for. */
export class InexpressibleInParquetError extends Error {
  override readonly name = 'InexpressibleInParquetError';
}

/**
 * A string column's value: a JSON string as written (normalizing is the engine's job), the
 * SPEC section 4 text of a number or boolean, NULL for null or absent.
 */
function text(raw: string | undefined, column: string): string | null {
  if (raw === undefined) return null;
  const value: unknown = JSON.parse(raw);
  if (value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    const spelled = numberText(raw);
    if (spelled !== undefined) return spelled;
  }
  throw new InexpressibleInParquetError(`${column} ${raw} has no text a string column could hold`);
}

function isObjectText(raw: string | undefined): raw is string {
  return raw?.startsWith('{') ?? false;
}

function isNumberText(raw: string | undefined): raw is string {
  return raw !== undefined && /^-?[0-9]/.test(raw);
}

/** JSON's white space; a line of nothing else holds no row. */
const BLANK = /^[ \t\r\n]*$/;

const INVALID_EVENT: EventRow = { event_id: null, source: null, user_id: null, event_name: null, ts: null, properties: null, value: null };

/**
 * The events row equivalent to one JSONL line, or `undefined` for a blank line (which holds no
 * row). A line that is not a JSON object is a row with every column NULL: an invalid row.
 */
export function eventRow(line: string): EventRow | undefined {
  if (BLANK.test(line)) return undefined;
  const members = jsonMembers(line);
  if (members === undefined) return INVALID_EVENT;
  const ts = members.get('ts');
  const properties = members.get('properties');
  const value = members.get('value');
  return {
    event_id: text(members.get('event_id'), 'event_id'),
    source: text(members.get('source'), 'source'),
    user_id: text(members.get('user_id'), 'user_id'),
    event_name: text(members.get('event_name'), 'event_name'),
    ts: ts?.startsWith('"') ? (tsMicros(JSON.parse(ts) as string) ?? null) : null,
    properties: isObjectText(properties) ? properties : null,
    value: isNumberText(value) ? Number(value) : null,
  };
}

/** The identities row equivalent to one JSONL line (see {@link eventRow}). */
export function identityRow(line: string): IdentityRow | undefined {
  if (BLANK.test(line)) return undefined;
  const members = jsonMembers(line);
  if (members === undefined) return { source: null, user_id: null, person_id: null };
  return {
    source: text(members.get('source'), 'source'),
    user_id: text(members.get('user_id'), 'user_id'),
    person_id: text(members.get('person_id'), 'person_id'),
  };
}
