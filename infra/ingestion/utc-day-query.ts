/**
 * The jq 1.6 query (Firehose's inline parsing) that gives an event record's `dt` partition: the
 * UTC date of its `ts`, read with the SPEC's grammar, `YYYY-MM-DDTHH:MM:SS[.f](Z|+-HH:MM)`, with
 * what the lake reader also demands (shared/compiler/duckdb-dialect.ts, ISO_TS): hours 00-23,
 * minutes and seconds 00-59, at most 6 fraction digits, offsets within +-18:00, a day that exists.
 * An offset moves the instant (`23:30-02:00` is 01:30 UTC on the next day). A `ts` that is missing,
 * not text, outside the grammar, or whose UTC date has no four-digit year, raises an error: Firehose
 * then writes the record under the error prefix instead of guessing a partition.
 */
const TS_PATTERN =
  '^(?<day>[0-9]{4}-[0-9]{2}-[0-9]{2})T(?<h>[01][0-9]|2[0-3]):(?<m>[0-5][0-9]):[0-5][0-9](\\\\.[0-9]{1,6})?(?<z>Z|[+-](0[0-9]|1[0-7]):[0-5][0-9]|[+-]18:00)$';

const OFFSET_SECONDS =
  '(if .z == "Z" then 0 else ((.z[1:3] | tonumber) * 3600 + (.z[4:6] | tonumber) * 60) * (if .z[0:1] == "-" then -1 else 1 end) end)';

/** The query, one line as Firehose takes it. */
export const UTC_DAY_QUERY = [
  `(.ts | strings | capture("${TS_PATTERN}")) // error("ts cannot be placed on a UTC day")`,
  '(.day + "T00:00:00Z" | fromdateiso8601) as $midnight',
  'if ($midnight | todate | .[0:10]) != .day then error("ts names no such day") else . end',
  `$midnight + (.h | tonumber) * 3600 + (.m | tonumber) * 60 - ${OFFSET_SECONDS}`,
  'todate',
  '(capture("^(?<utc>[0-9]{4}-[0-9]{2}-[0-9]{2})T") | .utc) // error("ts falls outside four-digit years")',
].join(' | ');
