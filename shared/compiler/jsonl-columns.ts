import type { Dialect } from './dialect.ts';

/**
 * What a JSON Lines line means (SPEC section 1), written once for both engines: each engine hands
 * the query every line of a file as one text column, exactly as written, and these queries read
 * it. The readings where the SPEC is silent (README, "Contract notes"):
 *
 * - a line that is not one strict JSON object (RFC 8259: no NaN, comments, single quotes,
 *   unquoted keys, trailing commas or text after the value), or a NULL line, is a row whose every
 *   field is NULL: an invalid row, excluded and counted by the source checks;
 * - a blank line (only spaces, tabs and CRs) is no row;
 * - a field's text is the SPEC section 4 text of its value (a number `-0` is `-0`, `1.50` is
 *   `1.5`); an object, array or null is no text; of duplicate keys the first counts;
 * - `value` is a JSON number or NULL (a string holding a number is NULL);
 * - `properties` that is not an object (a string holding one, say) gives no properties.
 */
export interface JsonlSource {
  /** The FROM clause: a table or a parenthesised subquery with its alias. */
  readonly from: string;
  /** The column holding one line of a file, as written. */
  readonly line: string;
  /** Columns passed through unchanged (the `dt` partition of events). */
  readonly keep?: readonly string[];
  /** A further condition on the rows of `from`. */
  readonly where?: string;
}

const EVENT_KEYS = ['event_id', 'source', 'user_id', 'event_name', 'ts', 'value'] as const;
const IDENTITY_KEYS = ['source', 'user_id', 'person_id'] as const;

function query(
  d: Dialect,
  source: JsonlSource,
  keys: readonly string[],
  columns: (r: ReturnType<Dialect['readJson']>) => string[],
): string {
  const reading = d.readJson(source.line, keys);
  const keep = source.keep ?? [];
  const kept = [`(${source.line} IS NULL OR ${d.trimAsciiSpace(source.line)} <> '')`, ...(source.where ? [`(${source.where})`] : [])];
  return (
    `SELECT ${[...columns(reading), ...keep].join(', ')} FROM (SELECT ${[...reading.items, ...keep].join(', ')} ` +
    `FROM ${source.from} WHERE ${kept.join(' AND ')}) AS jsonl_lines`
  );
}

/**
 * The events of JSON Lines files as the compiler's `events` relation expects them (LakeRelations):
 * event_id, source, user_id, event_name, ts, properties, value, then the `keep` columns.
 */
export function jsonlEventsQuery(d: Dialect, source: JsonlSource): string {
  return query(d, source, EVENT_KEYS, (r) => [
    ...['event_id', 'source', 'user_id', 'event_name'].map((key) => `${r.text(key)} AS ${key}`),
    `${d.parseTimestamp(r.text('ts'))} AS ts`,
    `${r.document} AS properties`,
    `${r.number('value')} AS value`,
  ]);
}

/** The identity map of JSON Lines files: source, user_id, person_id (the SPEC texts). */
export function jsonlIdentitiesQuery(d: Dialect, source: JsonlSource): string {
  return query(d, source, IDENTITY_KEYS, (r) => IDENTITY_KEYS.map((key) => `${r.text(key)} AS ${key}`));
}
