import type { DuckDBConnection } from '@duckdb/node-api';
import { duckdbDialect } from '../compiler/duckdb-dialect.ts';
import { nonEmpty } from '../compiler/event-rows.ts';
import { jsonlEventsQuery } from '../compiler/jsonl-columns.ts';
import { presentIdSql } from '../compiler/normalize-id.ts';
import { identifier } from '../compiler/sql-text.ts';

/** One line of an ingested file, judged as the lake reader reads it. */
export type LineVerdict =
  /** A valid event (SPEC section 1): it belongs in `events/dt=<dt>/`, the UTC date of its `ts`. */
  | { readonly line: number; readonly text: string; readonly dt: string }
  /** A line the reader would count as an invalid row: why. */
  | { readonly line: number; readonly text: string; readonly reason: string };

let tableCounter = 0;

const REQUIRED = ['event_id', 'source', 'user_id', 'event_name'] as const;

/** Splits a file's text into lines where the lake reader ends them: at LF, CR or CRLF. */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/**
 * Judges each line with the lake reader's own reading of JSON Lines (jsonlEventsQuery, the
 * DuckDB dialect) and the refresh's validity rule (validEventLines: non-empty event_id, source,
 * event_name, a user_id present after normalization, a parsable ts), so a line kept here is a
 * valid event to every refresh and its `dt` is the UTC date of its ts (the dialect's utcDay).
 * Blank lines are no rows to the reader: they get no verdict.
 */
export async function judgeEventLines(connection: DuckDBConnection, lines: readonly string[]): Promise<LineVerdict[]> {
  const name = `ingest_lines_${++tableCounter}`;
  const table = identifier(name);
  await connection.run(`CREATE TEMP TABLE ${table} (line_no INTEGER, line VARCHAR)`);
  try {
    const appender = await connection.createAppender(name);
    lines.forEach((line, index) => {
      appender.appendInteger(index + 1);
      appender.appendVarchar(line);
      appender.endRow();
    });
    appender.closeSync();
    const d = duckdbDialect;
    const checks = [
      ...REQUIRED.map((key) => `${key === 'user_id' ? `coalesce(${presentIdSql(d, key)}, false)` : `(${nonEmpty(key)})`} AS ${key}_ok`),
      `ts IS NOT NULL AS ts_ok`,
      `(${[...REQUIRED, 'ts', 'properties', 'value'].map((key) => `${key} IS NULL`).join(' AND ')}) AS nothing`,
      `CASE WHEN ts IS NOT NULL THEN ${d.utcDay('ts')} END AS dt`,
    ];
    const events = jsonlEventsQuery(d, { from: table, line: 'line', keep: ['line_no'] });
    const reader = await connection.runAndReadAll(`SELECT line_no, ${checks.join(', ')} FROM (${events}) AS judged ORDER BY line_no`);
    return reader.getRowObjects().map((row) => {
      const line = Number(row.line_no);
      const text = lines[line - 1] as string;
      if (row.nothing) return { line, text, reason: 'not one JSON object with the event columns (SPEC section 1)' };
      const bad = [
        ...REQUIRED.filter((key) => !row[`${key}_ok`]).map((key) => `${key} missing or empty`),
        ...(row.ts_ok ? [] : ['ts missing or not YYYY-MM-DDTHH:MM:SS[.ffffff](Z|+HH:MM)']),
      ];
      return bad.length > 0 ? { line, text, reason: bad.join(', ') } : { line, text, dt: String(row.dt) };
    });
  } finally {
    await connection.run(`DROP TABLE IF EXISTS ${table}`);
  }
}
