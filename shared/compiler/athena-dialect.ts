import type { Dialect } from './dialect.ts';
import { stringLiteral } from './sql-text.ts';

const isoUtc = (epochMs: number) => new Date(epochMs).toISOString().replace('T', ' ').replace('Z', '');

/**
 * The SPEC's text of a JSON number in Trino: integers keep their digits; other numbers are
 * doubles rendered shortest with `.0` when integral. Trino's double-to-varchar cast is the
 * shortest round-trip form between 1e-3 and 1e7; beyond that it switches to exponent notation.
 */
const numberText = (raw: string) =>
  `CASE WHEN regexp_like(${raw}, '^-?(0|[1-9][0-9]*)$') THEN ${raw} ` +
  `WHEN CAST(${raw} AS DOUBLE) = floor(CAST(${raw} AS DOUBLE)) AND abs(CAST(${raw} AS DOUBLE)) < 1E15 ` +
  `THEN format('%.0f', CAST(${raw} AS DOUBLE)) || '.0' ELSE CAST(CAST(${raw} AS DOUBLE) AS VARCHAR) END`;

/** Athena engine version 3 (Trino). */
export const athenaDialect: Dialect = {
  name: 'athena',
  timestamp: (epochMs) => `TIMESTAMP ${stringLiteral(`${isoUtc(epochMs)} UTC`)}`,
  fullMatch: (text, pattern) => `regexp_like(${text}, ${stringLiteral(`^(?:${pattern})$`)})`,
  trimAsciiSpace: (text) => `trim(${text}, ' ' || chr(9) || chr(13) || chr(10))`,
  extractProperties: (properties, names) =>
    names.map((n, i) => `json_format(json_extract(${properties}, ${stringLiteral(`$["${n}"]`)})) AS prop_json_${i}`),
  propertyJson: (index) => `prop_json_${index}`,
  scalarText: (json) =>
    `CASE substr(${json}, 1, 1) WHEN '"' THEN json_extract_scalar(${json}, '$') WHEN '{' THEN NULL WHEN '[' THEN NULL WHEN 'n' THEN NULL ` +
    `WHEN 't' THEN ${json} WHEN 'f' THEN ${json} ELSE ${numberText(json)} END`,
  present: (json) => `coalesce(${json} <> 'null', false)`,
  latestBy: (value, ts, eventId) => `max_by(${value}, ROW(${ts}, ${eventId}))`,
  tryDouble: (text) => `TRY_CAST(${text} AS DOUBLE)`,
};
