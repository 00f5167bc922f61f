import type { Dialect, JsonReading } from './dialect.ts';
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

/** The JSON number grammar of SPEC section 4 (as event-rows' NUMERIC_TEXT). */
const NUMBER = '-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][+-]?[0-9]+)?';

/**
 * The only timestamp spelling JSONL may use (SPEC section 1). `[0-9]` and `[.]` rather than `\d`
 * and `\.`: no question of Unicode digits or of backslashes in literals.
 */
const ISO_TS = '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})';

/** JSON path of a top-level key (keys are constants or validated property names). */
const keyPath = (key: string) => stringLiteral(`$["${key}"]`);

/** A properties document holds the object at key `properties`: a JSON Lines line is one as it is. */
const propertyPath = (name: string) => stringLiteral(`$["properties"]["${name}"]`);

/**
 * Whether a text is one strict JSON object. json_parse reads the whole text with Jackson's
 * defaults (no NaN, comments, single quotes or trailing commas) and fails on anything after the
 * value; try() makes a failure NULL.
 */
const isObject = (text: string) => `starts_with(json_format(try(json_parse(${text}))), '{')`;

/**
 * The text of the value at `path` of a JSON text. json_extract_scalar gives a scalar's token as
 * written (Jackson's getText: `-0` stays `-0`), with no sign whether it was a string; only a
 * token that reads as a non-integral number needs json_extract to tell (a string keeps it).
 */
const valueText = (text: string, path: string) => {
  const raw = `json_extract_scalar(${text}, ${path})`;
  return `CASE WHEN ${fullMatch(raw, NUMBER)} AND NOT starts_with(json_format(json_extract(${text}, ${path})), '"') THEN ${numberText(raw)} ELSE ${raw} END`;
};

/** The value at `path` as a DOUBLE when it is a JSON number. */
const valueNumber = (text: string, path: string) => {
  const raw = `json_extract_scalar(${text}, ${path})`;
  return `CASE WHEN ${fullMatch(raw, NUMBER)} AND NOT starts_with(json_format(json_extract(${text}, ${path})), '"') THEN TRY_CAST(${raw} AS DOUBLE) END`;
};

/** Parses once whether the text is a strict JSON object; each key is then extracted by path. */
function readJson(text: string, keys: readonly string[]): JsonReading {
  const known = (key: string) => {
    if (!keys.includes(key)) throw new Error(`key ${key} was not read`);
    return keyPath(key);
  };
  return {
    items: [`${text} AS jl_line`, `${isObject(text)} AS jl_ok`],
    text: (key) => `CASE WHEN jl_ok THEN ${valueText('jl_line', known(key))} END`,
    number: (key) => `CASE WHEN jl_ok THEN ${valueNumber('jl_line', known(key))} END`,
    document: 'CASE WHEN jl_ok THEN jl_line END',
  };
}

/**
 * A property's JSON text. json_extract re-writes numbers by their value (integer `-0` as `0`);
 * for `0`, json_extract_scalar gives the token as written.
 */
const propertyJsonText = (properties: string, name: string) =>
  `coalesce(nullif(json_format(json_extract(${properties}, ${propertyPath(name)})), '0'), json_extract_scalar(${properties}, ${propertyPath(name)}))`;

/** Athena engine version 3 (Trino). */
export const athenaDialect: Dialect = {
  name: 'athena',
  timestamp: (epochMs) => `TIMESTAMP ${stringLiteral(`${isoUtc(epochMs)} UTC`)}`,
  fullMatch,
  trimAsciiSpace: (text) => `trim(${text}, ' ' || chr(9) || chr(13) || chr(10))`,
  readJson,
  propertiesOfText: (text) => `CASE WHEN ${isObject(text)} THEN '{"properties":' || ${text} || '}' END`,
  // `try` makes a well-spelled impossible instant (month 13, offset +19:00) NULL instead of failing
  // the query; fractions have at most 6 digits, so narrowing to microseconds never rounds.
  parseTimestamp: (text) =>
    `CASE WHEN ${fullMatch(text, ISO_TS)} THEN CAST(try(from_iso8601_timestamp_nanos(${text})) AS timestamp(6) with time zone) END`,
  extractProperties: (properties, names, when) =>
    names.map((n, i) => {
      const json = propertyJsonText(properties, n);
      return `${when === undefined ? json : `CASE WHEN ${when} THEN ${json} END`} AS prop_json_${i}`;
    }),
  propertyJson: (index) => `prop_json_${index}`,
  scalarText: (json) =>
    `CASE substr(${json}, 1, 1) WHEN '"' THEN json_extract_scalar(${json}, '$') WHEN '{' THEN NULL WHEN '[' THEN NULL WHEN 'n' THEN NULL ` +
    `WHEN 't' THEN ${json} WHEN 'f' THEN ${json} ELSE ${numberText(json)} END`,
  present: (json) => `coalesce(${json} <> 'null', false)`,
  latestBy: (value, ts, eventId) => `max_by(${value}, ROW(${ts}, ${eventId}))`,
  earliestBy: (value, ts, eventId) => `min_by(${value}, ROW(${ts}, ${eventId}))`,
  tryDouble: (text) => `TRY_CAST(${text} AS DOUBLE)`,
  deduplication: 'window',
  hash: (text) => `xxhash64(to_utf8(${text}))`,
  // A JSON Lines `ts` keeps the offset it was written with (from_iso8601_timestamp_nanos), and
  // Trino casts a timestamp with time zone to the date of its own zone: `AT TIME ZONE 'UTC'` first.
  utcDay: (instant) => `CAST(CAST(${instant} AT TIME ZONE 'UTC' AS DATE) AS VARCHAR)`,
};
