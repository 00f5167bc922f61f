import { stringLiteral } from '../compiler/sql-text.ts';
import type { QueryEngine } from '../ports.ts';

/**
 * The event names of `names` that no event of the lake has (any source, any time, valid or not): a metric
 * misspelt on the command line converts no one in either arm, which reads like a real result.
 */
export async function unseenEvents(engine: QueryEngine, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const lake = await engine.lake();
  const listed = names.map(stringLiteral).join(', ');
  const rows = await engine.rows(`SELECT DISTINCT event_name AS name FROM ${lake.relations.events} AS e WHERE event_name IN (${listed})`);
  const seen = new Set(rows.map((row) => String(row.name)));
  return names.filter((name) => !seen.has(name));
}
