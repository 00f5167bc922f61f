import { stringLiteral } from './sql-text.ts';

/**
 * Strict JSON (RFC 8259) and number tokens as written, on DuckDB. DuckDB's JSON reader (yyjson)
 * accepts NaN, Infinity and trailing commas, and renders a number by its value, so `-0` becomes
 * `0`. Both are rare, and both leave a mark on the text that one regular expression finds;
 * only texts it finds pay for the exact work below: splitting the text into JSON tokens.
 */

/**
 * A text that may hold `-0` as a number, NaN or Infinity in any case, or a comma before a
 * closing bracket. Every text yyjson reads differently from a strict parser matches; a text that
 * matches may still be plain JSON (the words inside a string, say).
 */
const SUSPECT = '-0([^.0-9Ee]|$)|(?i:nan|inf)|,[ \\t\\r\\n]*[\\]}]';

/** A JSON text's tokens: strings, bare words (numbers, literals, anything else), punctuation. */
const TOKEN = '"(?:[^"\\\\]|\\\\.)*"|[^ \\t\\r\\n",:\\[\\]{}]+|[,:\\[\\]{}]';

/** The bare words strict JSON allows. */
const BARE = '-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?|true|false|null';

/** Whether a text may need the exact (token) reading; NULL for NULL. */
export const suspectJson = (text: string) => `regexp_matches(${text}, ${stringLiteral(SUSPECT)})`;

const tokens = (text: string) => `regexp_extract_all(${text}, ${stringLiteral(TOKEN)})`;

/**
 * Whether a text that yyjson accepts is also strict JSON: its bare words are numbers or literals
 * and no comma precedes a closing bracket. The text's outline (strings as `"`, bare words as `0`)
 * shows both.
 */
export function strictTokens(text: string): string {
  const outline =
    `array_to_string(list_transform(${tokens(text)}, t -> CASE WHEN starts_with(t, '"') THEN '"' ` +
    `WHEN regexp_full_match(t, ${stringLiteral(BARE)}) THEN '0' ELSE t END), '')`;
  return `NOT regexp_matches(${outline}, ${stringLiteral('[^"0{}\\[\\]:,]|,[\\]}]')})`;
}

/** Whether a text is one strict JSON value (white space around it allowed). */
export function strictJson(text: string): string {
  // CASE, not OR: DuckDB evaluates a CASE branch only for the rows that reach it.
  return `CASE WHEN NOT json_valid(${text}) THEN false WHEN ${suspectJson(text)} THEN ${strictTokens(text)} ELSE true END`;
}

/**
 * The text with every `-0` number token written `NaN`, which yyjson reads and strict JSON never
 * holds: after json_extract, a value `NaN` was written `-0`. For strict JSON texts only (white
 * space between tokens is dropped, which changes nothing in JSON).
 */
export function markMinusZero(text: string): string {
  return `array_to_string(list_transform(${tokens(text)}, t -> CASE WHEN t = '-0' THEN 'NaN' ELSE t END), '')`;
}

/** json_extract of several paths as a VARCHAR[] (NULL elements for missing keys). */
export const extractList = (text: string, paths: readonly string[]) =>
  `CAST(json_extract(${text}, [${paths.map(stringLiteral).join(', ')}]) AS VARCHAR[])`;
