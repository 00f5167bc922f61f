import type { Dialect } from './dialect.ts';
import { stringLiteral } from './sql-text.ts';

const isoUtc = (epochMs: number) => new Date(epochMs).toISOString().replace('T', ' ').replace('Z', '');

/**
 * Whether `text` matches `pattern` entirely. Trino compiles patterns with Java syntax, where `$`
 * also matches before a final line feed (so `'5' || chr(10)` would pass for numeric and then
 * TRY_CAST, which trims white space, would read 5); `\A` and `\z` anchor at the very ends,
 * in both of Trino's regex libraries (Joni and RE2J). Backslashes are plain characters in
 * Trino string literals.
 */
const fullMatch = (text: string, pattern: string) => `regexp_like(${text}, ${stringLiteral(`\\A(?:${pattern})\\z`)})`;

/**
 * Decimal places tried for a non-integral double: the shortest text of a double whose magnitude is
 * in [1e-4, 1e15) has at most 17 significant digits, so at most 20 decimals.
 */
const MAX_DECIMALS = 20;

/**
 * The SPEC's text of a JSON number in Trino: integers keep their digits; other numbers are doubles
 * rendered as the shortest plain text that reads back to them, with `.0` when integral. Trino's
 * double-to-varchar cast always uses exponent form (`4.5E0`), so it cannot be used: the shortest
 * text is the first of `format('%.Nf')`, N = 1, 2, ..., that reads back to the same double (the
 * first one has no trailing zero). Magnitudes outside [1e-4, 1e15) have no defined text.
 */
const numberText = (raw: string) => {
  const double = `CAST(${raw} AS DOUBLE)`;
  const shortest = Array.from({ length: MAX_DECIMALS }, (_, i) => {
    const text = `format(${stringLiteral(`%.${i + 1}f`)}, ${double})`;
    return `WHEN CAST(${text} AS DOUBLE) = ${double} THEN ${text} `;
  }).join('');
  return (
    `CASE WHEN ${fullMatch(raw, '-?(0|[1-9][0-9]*)')} THEN ${raw} ` +
    `WHEN ${double} = floor(${double}) AND abs(${double}) < 1E15 THEN format('%.0f', ${double}) || '.0' ` +
    `${shortest}ELSE CAST(${double} AS VARCHAR) END`
  );
};

/** Athena engine version 3 (Trino). */
export const athenaDialect: Dialect = {
  name: 'athena',
  timestamp: (epochMs) => `TIMESTAMP ${stringLiteral(`${isoUtc(epochMs)} UTC`)}`,
  fullMatch,
  trimAsciiSpace: (text) => `trim(${text}, ' ' || chr(9) || chr(13) || chr(10))`,
  extractProperties: (properties, names, when) =>
    names.map((n, i) => {
      const json = `json_format(json_extract(${properties}, ${stringLiteral(`$["${n}"]`)}))`;
      return `${when === undefined ? json : `CASE WHEN ${when} THEN ${json} END`} AS prop_json_${i}`;
    }),
  propertyJson: (index) => `prop_json_${index}`,
  scalarText: (json) =>
    `CASE substr(${json}, 1, 1) WHEN '"' THEN json_extract_scalar(${json}, '$') WHEN '{' THEN NULL WHEN '[' THEN NULL WHEN 'n' THEN NULL ` +
    `WHEN 't' THEN ${json} WHEN 'f' THEN ${json} ELSE ${numberText(json)} END`,
  present: (json) => `coalesce(${json} <> 'null', false)`,
  latestBy: (value, ts, eventId) => `max_by(${value}, ROW(${ts}, ${eventId}))`,
  tryDouble: (text) => `TRY_CAST(${text} AS DOUBLE)`,
  deduplication: 'window',
  hash: (text) => `xxhash64(to_utf8(${text}))`,
};
