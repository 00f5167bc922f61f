import type { Dialect } from './dialect.ts';
import { stringLiteral } from './sql-text.ts';

const isoUtc = (epochMs: number) => new Date(epochMs).toISOString().replace('T', ' ').replace('Z', '');

/** DuckDB, the local engine. */
export const duckdbDialect: Dialect = {
  name: 'duckdb',
  timestamp: (epochMs) => `TIMESTAMPTZ ${stringLiteral(`${isoUtc(epochMs)}+00`)}`,
  fullMatch: (text, pattern) => `regexp_full_match(${text}, ${stringLiteral(pattern)})`,
  trimAsciiSpace: (text) => `trim(${text}, ${stringLiteral(' \t\r\n')})`,
  // One parse of the JSON text per row, whatever the number of properties.
  extractProperties: (properties, names) =>
    names.length === 0 ? [] : [`json_extract(${properties}, [${names.map((n) => stringLiteral(`$."${n}"`)).join(', ')}]) AS prop_json`],
  propertyJson: (index) => `CAST(prop_json[${index + 1}] AS VARCHAR)`,
  // json_extract renders numbers the SPEC's way (4.50 -> 4.5, 1e1 -> 10.0, 42 -> 42) and keeps strings quoted.
  scalarText: (json) =>
    `CASE left(${json}, 1) WHEN '"' THEN json_extract_string(${json}, '$') WHEN '{' THEN NULL WHEN '[' THEN NULL WHEN 'n' THEN NULL ELSE ${json} END`,
  present: (json) => `coalesce(${json} <> 'null', false)`,
  latestBy: (value, ts, eventId) => `arg_max(${value}, {'ts': ${ts}, 'event_id': ${eventId}})`,
  tryDouble: (text) => `TRY_CAST(${text} AS DOUBLE)`,
};
