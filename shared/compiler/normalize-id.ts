import type { Dialect } from './dialect.ts';

/** SPEC `normalize(id)`: trim ASCII white space; lower-case when it holds an `@`. */
export function normalizedIdSql(dialect: Dialect, column: string): string {
  const trimmed = dialect.trimAsciiSpace(column);
  return `CASE WHEN strpos(${trimmed}, '@') > 0 THEN lower(${trimmed}) ELSE ${trimmed} END`;
}

/**
 * Whether `normalize(column)` is present (not NULL, not empty): lower-casing never empties a
 * text, so the trim alone decides, and a filter on the raw column is cheaper than one on the
 * normalized id (DuckDB would compute the whole normalization once more to filter the scan).
 */
export function presentIdSql(dialect: Dialect, column: string): string {
  return `${dialect.trimAsciiSpace(column)} <> ''`;
}
