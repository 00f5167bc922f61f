/**
 * One JSON text read once (jsonl-columns.ts): the select items that parse it, then expressions
 * over those items (in an enclosing SELECT) for its top-level keys. Everything is NULL when the
 * text is not one strict JSON object.
 */
export interface JsonReading {
  /** Select items over the row holding the text (aliases `jl_*`). */
  readonly items: readonly string[];
  /** The SPEC section 4 text of a key's value: NULL when missing, null, an object or an array. */
  text(key: string): string;
  /** A key's value as a DOUBLE when it is a JSON number (not a string holding one), else NULL. */
  number(key: string): string;
  /** The properties document (see `Dialect.extractProperties`) of the text. */
  readonly document: string;
}

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
  /** Reads a JSON text (a JSON Lines line) for its top-level `keys`. */
  readJson(text: string, keys: readonly string[]): JsonReading;
  /**
   * The properties document of a text that should hold a JSON object (a Parquet `properties`
   * column): NULL unless it is one strict JSON object.
   */
  propertiesOfText(text: string): string;
  /** A SPEC section 1 JSONL timestamp text as the dialect's instant; NULL when unparsable. */
  parseTimestamp(text: string): string;
  /**
   * Select items that pull every listed property out of a properties document in one parse. The
   * document is the engine's choice (JsonReading.document, propertiesOfText): each engine reads
   * the number tokens as written from it (SPEC section 4 text). Only for rows where `when` holds
   * (every row when it is undefined).
   */
  extractProperties(properties: string, names: readonly string[], when?: string): string[];
  /**
   * The JSON text of property `index` after `extractProperties`, integers as written (`-0` stays
   * `-0`); other numbers by their value.
   */
  propertyJson(index: number): string;
  /** The SPEC's text of a JSON value: NULL for missing, null, objects and arrays. */
  scalarText(json: string): string;
  /** Whether a JSON value is present and not null (objects and arrays are present). */
  present(json: string): string;
  /** The argument of the row with the greatest (ts, event_id), as an aggregate. */
  latestBy(value: string, ts: string, eventId: string): string;
  /** The argument of the row with the least (ts, event_id), as an aggregate (`earliest`). */
  earliestBy(value: string, ts: string, eventId: string): string;
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
  /** The UTC date (YYYY-MM-DD text) of an instant, whatever zone or offset the value carries. */
  utcDay(instant: string): string;
}
