import type { Dialect, JsonReading } from './dialect.ts';
import { extractList, markMinusZero, strictJson, strictTokens, suspectJson } from './duckdb-json.ts';
import { stringLiteral } from './sql-text.ts';

const guarded = (when: string | undefined, expression: string) =>
  when === undefined ? expression : `CASE WHEN ${when} THEN ${expression} END`;

/** The white space SPEC `normalize(id)` trims: space, tab, CR, LF. */
const ASCII_SPACE = [' ', '\t', '\r', '\n'];

/**
 * The only timestamp spelling JSONL may use (SPEC section 1), with what Java's strict ISO parser
 * (Athena) also demands and DuckDB's cast does not: hours 00-23 (DuckDB reads 24:00 as the next
 * day), minutes and seconds 00-59, offsets within +-18:00. Anything else is unparsable.
 */
const ISO_TS = '\\d{4}-\\d{2}-\\d{2}T([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{1,6})?(Z|[+-](0\\d|1[0-7]):[0-5]\\d|[+-]18:00)';

/** Begins with `{` after JSON white space. */
const objectText = (text: string) =>
  `CASE WHEN starts_with(${text}, '{') THEN true ELSE starts_with(ltrim(${text}, ' ' || chr(9) || chr(13) || chr(10)), '{') END`;

/** JSON path of a top-level key (keys are constants or validated property names). */
const keyPath = (key: string) => `$."${key}"`;

/** A properties document holds the object at key `properties`: a JSON Lines line is one as it is. */
const propertyPath = (name: string) => `$.properties."${name}"`;

const isNumberJson = (json: string) => `regexp_matches(${json}, '^-?[0-9]')`;

/**
 * Reads the text once for its keys; a text that may hold `-0` numbers is read a second time
 * with them marked (duckdb-json.ts), only when some key's value reads `0`.
 */
function readJson(text: string, keys: readonly string[]): JsonReading {
  const paths = keys.map(keyPath);
  const at = (key: string) => {
    const i = keys.indexOf(key);
    if (i < 0) throw new Error(`key ${key} was not read`);
    return i + 1;
  };
  const minusZero = (key: string) => `jl_m[${at(key)}] = 'NaN'`;
  return {
    // DuckDB lets a select item use the aliases before it.
    items: [
      `${suspectJson(text)} AS jl_suspect`,
      // CASE, not AND/OR: DuckDB evaluates a CASE branch only for the rows that reach it.
      `CASE WHEN NOT (json_valid(${text}) AND ${objectText(text)}) THEN false WHEN jl_suspect THEN ${strictTokens(text)} ELSE true END AS jl_ok`,
      `CASE WHEN jl_ok THEN ${extractList(text, paths)} END AS jl_j`,
      `CASE WHEN NOT jl_suspect THEN NULL WHEN list_contains(jl_j, '0') THEN ${extractList(markMinusZero(text), paths)} END AS jl_m`,
      `CASE WHEN jl_ok THEN ${text} END AS jl_doc`,
    ],
    text: (key) => `CASE WHEN ${minusZero(key)} THEN '-0' ELSE ${scalarText(`jl_j[${at(key)}]`)} END`,
    number: (key) => {
      const json = `jl_j[${at(key)}]`;
      return `CASE WHEN ${minusZero(key)} THEN CAST('-0.0' AS DOUBLE) WHEN ${isNumberJson(json)} THEN TRY_CAST(${json} AS DOUBLE) END`;
    },
    document: 'jl_doc',
  };
}

// json_extract renders numbers the SPEC's way (4.50 -> 4.5, 1e1 -> 10.0, 42 -> 42) and keeps strings quoted.
const scalarText = (json: string) =>
  `CASE left(${json}, 1) WHEN '"' THEN json_extract_string(${json}, '$') WHEN '{' THEN NULL WHEN '[' THEN NULL WHEN 'n' THEN NULL ELSE ${json} END`;

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
  readJson,
  propertiesOfText: (text) =>
    `CASE WHEN NOT ${objectText(text)} THEN NULL WHEN ${strictJson(text)} THEN '{"properties":' || ${text} || '}' END`,
  parseTimestamp: (text) =>
    `CASE WHEN regexp_full_match(${text}, ${stringLiteral(ISO_TS)}) THEN make_timestamp(epoch_us(TRY_CAST(${text} AS TIMESTAMPTZ))) END`,
  // One parse of the document per row, whatever the number of properties; a second one, with
  // `-0` tokens marked, only for rows where a property reads `0` and the document may hold `-0`.
  // try(): a document that is not JSON has no properties, rather than failing the run.
  extractProperties: (properties, names, when) => {
    if (names.length === 0) return [];
    const paths = names.map(propertyPath);
    return [
      `${guarded(when, `try(${extractList(properties, paths)})`)} AS prop_json`,
      `CASE WHEN NOT list_contains(prop_json, '0') THEN NULL WHEN ${suspectJson(properties)} THEN try(${extractList(markMinusZero(properties), paths)}) END AS prop_marked`,
    ];
  },
  propertyJson: (index) => `CASE WHEN prop_marked[${index + 1}] = 'NaN' THEN '-0' ELSE prop_json[${index + 1}] END`,
  scalarText,
  present: (json) => `coalesce(${json} <> 'null', false)`,
  latestBy: (value, ts, eventId) => `arg_max(${value}, {'ts': ${ts}, 'event_id': ${eventId}})`,
  earliestBy: (value, ts, eventId) => `arg_min(${value}, {'ts': ${ts}, 'event_id': ${eventId}})`,
  tryDouble: (text) => `TRY_CAST(${text} AS DOUBLE)`,
  deduplication: 'candidates',
  // Instants are plain TIMESTAMPs holding UTC.
  utcDay: (instant) => `CAST(CAST(${instant} AS DATE) AS VARCHAR)`,
  hash: (text) => `hash(${text})`,
};
