/**
 * What differs between the engines. Everything else in the compiled SQL is shared text, so the
 * DuckDB and Athena queries have the same shape and the same meaning.
 */
export interface Dialect {
  readonly name: 'duckdb' | 'athena';
  /** A TIMESTAMP WITH TIME ZONE literal for an instant (milliseconds since the epoch, UTC). */
  timestamp(epochMs: number): string;
  /** Whether `text` matches `pattern` entirely (pattern is a constant we control). */
  fullMatch(text: string, pattern: string): string;
  /** Removes leading and trailing ASCII white space (space, tab, CR, LF). */
  trimAsciiSpace(text: string): string;
  /**
   * Select items that pull every listed top-level property out of `properties` in one parse,
   * only for rows where `when` holds (every row when it is undefined).
   */
  extractProperties(properties: string, names: readonly string[], when?: string): string[];
  /** The JSON value (as the dialect's JSON text or type) of property `index` after `extractProperties`. */
  propertyJson(index: number): string;
  /** The SPEC's text of a JSON value: NULL for missing, null, objects and arrays. */
  scalarText(json: string): string;
  /** Whether a JSON value is present and not null (objects and arrays are present). */
  present(json: string): string;
  /** The argument of the row with the greatest (ts, event_id), as an aggregate. */
  latestBy(value: string, ts: string, eventId: string): string;
  /**
   * How one copy per event_id is kept (the same copy either way: the first by ts, source, user,
   * name, properties, value). `window`: a row_number() window over every valid row, one scan;
   * cheapest in bytes scanned, which is what Athena bills. `candidates`: a narrow second scan
   * finds the event_ids whose hash repeats, and only those rows go through the window; several
   * times less memory and time for DuckDB on one machine.
   */
  readonly deduplication: 'window' | 'candidates';
  /** A 64-bit hash of a text (used by the `candidates` de-duplication). */
  hash(text: string): string;
  /** A cast that yields NULL instead of failing. */
  tryDouble(text: string): string;
}
