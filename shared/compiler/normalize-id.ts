import type { Dialect } from './dialect.ts';

/** SPEC `normalize(id)`: trim ASCII white space; lower-case when it holds an `@`. */
export function normalizedIdSql(dialect: Dialect, column: string): string {
  const trimmed = dialect.trimAsciiSpace(column);
  return `CASE WHEN strpos(${trimmed}, '@') > 0 THEN lower(${trimmed}) ELSE ${trimmed} END`;
}
