import type { Dialect } from './dialect.ts';
import { stringLiteral } from './sql-text.ts';

const guarded = (when: string | undefined, expression: string) => (when === undefined ? expression : `CASE WHEN ${when} THEN ${expression} END`);

/** The white space SPEC `normalize(id)` trims: space, tab, CR, LF. */
const ASCII_SPACE = [' ', '\t', '\r', '\n'];

const isoUtc = (epochMs: number) => new Date(epochMs).toISOString().replace('T', ' ').replace('Z', '');

/**
 * DuckDB, the local engine. Instants are plain TIMESTAMPs holding UTC (the lake reader
 * converts with `make_timestamp(epoch_us(ts))`): comparing TIMESTAMP WITH TIME ZONE goes
 * through ICU for every row, which costs seconds on ten million events.
 */
export const duckdbDialect: Dialect = {
  name: 'duckdb',
  timestamp: (epochMs) => `TIMESTAMP ${stringLiteral(isoUtc(epochMs))}`,
  fullMatch: (text, pattern) => `regexp_full_match(${text}, ${stringLiteral(pattern)})`,
  trimAsciiSpace: (text) => {
    // trim() with a character list costs about 0.3 us a row (seconds on ten million events);
    // an id that neither starts nor ends with one of the four characters is already trimmed.
    const edges = ASCII_SPACE.flatMap((c) => [`starts_with(${text}, ${stringLiteral(c)})`, `ends_with(${text}, ${stringLiteral(c)})`]);
    return `CASE WHEN ${edges.join(' OR ')} THEN trim(${text}, ${stringLiteral(ASCII_SPACE.join(''))}) ELSE ${text} END`;
  },
  // One parse of the JSON text per row, whatever the number of properties.
  // try(): a properties text that is not JSON has no properties (as in Athena), rather than failing the run.
  extractProperties: (properties, names, when) =>
    names.length === 0
      ? []
      : [`${guarded(when, `try(json_extract(${properties}, [${names.map((n) => stringLiteral(`$."${n}"`)).join(', ')}]))`)} AS prop_json`],
  propertyJson: (index) => `CAST(prop_json[${index + 1}] AS VARCHAR)`,
  // json_extract renders numbers the SPEC's way (4.50 -> 4.5, 1e1 -> 10.0, 42 -> 42) and keeps strings quoted.
  scalarText: (json) =>
    `CASE left(${json}, 1) WHEN '"' THEN json_extract_string(${json}, '$') WHEN '{' THEN NULL WHEN '[' THEN NULL WHEN 'n' THEN NULL ELSE ${json} END`,
  present: (json) => `coalesce(${json} <> 'null', false)`,
  latestBy: (value, ts, eventId) => `arg_max(${value}, {'ts': ${ts}, 'event_id': ${eventId}})`,
  tryDouble: (text) => `TRY_CAST(${text} AS DOUBLE)`,
  deduplication: 'candidates',
  hash: (text) => `hash(${text})`,
};
