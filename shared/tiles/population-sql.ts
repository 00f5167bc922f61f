import { stringLiteral } from '../compiler/sql-text.ts';
import { PRESENCE } from './tile-sql.ts';

/**
 * The population index (issue 15): one row per identity key (`source`, `user_key`) seen in the
 * presence rows of the tiles, with the first and last tile day holding it (`first_day`,
 * `last_day`; the rollup's rows carry its day, 0000-01-01). The population of a refresh at T is
 * every key whose `first_day` lies before T's day, plus T's day read raw: the same keys the
 * presence rows of every tile day give, read from one row per key instead of one per key and day.
 * It is derived from the stored tiles only, so what erasure removes from them it loses too.
 */

/** The columns of the population index. */
export const POPULATION_COLUMNS = ['source', 'user_key', 'first_day', 'last_day'] as const;

/** The index rows of tile rows `tiles` (TILE_COLUMNS with `day`): their presence keys' first and last day. */
export function populationIndexSql(tiles: string): string {
  return (
    `SELECT source, user_key, min(day) AS first_day, max(day) AS last_day FROM ${tiles} AS t\n` +
    `WHERE t.measure = ${stringLiteral(PRESENCE)} GROUP BY source, user_key`
  );
}

/**
 * The index of the union of two sets of tile files, from the index of the first (`index`) and the
 * tile rows of the files added (`tiles`): first and last days only move outward as days are added.
 */
export function populationAddedSql(index: string, tiles: string): string {
  return (
    `SELECT source, user_key, min(first_day) AS first_day, max(last_day) AS last_day FROM (\n` +
    `  SELECT ${POPULATION_COLUMNS.join(', ')} FROM ${index} AS kept\n  UNION ALL\n  ${populationIndexSql(tiles)}\n` +
    ') AS keys GROUP BY source, user_key'
  );
}
