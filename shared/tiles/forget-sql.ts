import type { Dialect } from '../compiler/dialect.ts';
import { normalizedIdSql } from '../compiler/normalize-id.ts';
import { stringLiteral } from '../compiler/sql-text.ts';
import { identityMapSql } from './tiled-selects.ts';

/**
 * Forgetting a person in the tiles (SPEC section 5, issue 14): tile rows and contested copies are
 * keyed by identity key (`source`, normalized `user_id`), never by person, so the person's keys are
 * the keys the identity map gives them, and an unmapped key that is their id (the compiler's
 * `coalesce(person_id, user_key)`). Both engines run these builders.
 */

/**
 * Whether the key of row `r` (`source`, key expression) belongs to none of the person's id forms.
 * A row without key (an invalid raw copy) belongs to nobody: it is kept, never NULL.
 */
function keptSql(d: Dialect, identities: string, key: string, forms: readonly string[]): string {
  const list = forms.map(stringLiteral).join(', ');
  return (
    `NOT EXISTS (SELECT 1 FROM (${identityMapSql(d, identities)}) AS m WHERE m.source = r.source AND m.user_key = ${key} AND m.person_id IN (${list}))\n` +
    `  AND NOT (coalesce(${key} IN (${list}), FALSE) AND NOT EXISTS (SELECT 1 FROM (${identityMapSql(d, identities)}) AS m2 WHERE m2.source = r.source AND m2.user_key = ${key}))`
  );
}

/** The rows of `tiles` (tile rows, `r.source`, `r.user_key`) that do not belong to the person. */
export function tileRowsKeptSql(d: Dialect, tiles: string, identities: string, forms: readonly string[]): string {
  return `SELECT * FROM ${tiles} AS r WHERE ${keptSql(d, identities, 'r.user_key', forms)}`;
}

/** The rows of `tiles` that belong to the person (the complement of {@link tileRowsKeptSql}). */
export function tileRowsHeldSql(d: Dialect, tiles: string, identities: string, forms: readonly string[]): string {
  return `SELECT * FROM ${tiles} AS r WHERE NOT (${keptSql(d, identities, 'r.user_key', forms)})`;
}

/** The raw event rows of `events` (`r.source`, `r.user_id`) that do not belong to the person. */
export function eventRowsKeptSql(d: Dialect, events: string, identities: string, forms: readonly string[]): string {
  return `SELECT * FROM ${events} AS r WHERE ${keptSql(d, identities, normalizedIdSql(d, 'r.user_id'), forms)}`;
}

/** The raw event rows of `events` that belong to the person (the complement of {@link eventRowsKeptSql}). */
export function eventRowsHeldSql(d: Dialect, events: string, identities: string, forms: readonly string[]): string {
  return `SELECT * FROM ${events} AS r WHERE NOT (${keptSql(d, identities, normalizedIdSql(d, 'r.user_id'), forms)})`;
}

/**
 * The person ids the rows of `tiles` (tile rows) and `events` (raw copies) stand for, one column
 * `person_id`: the identity map's person of each key, else the key itself, as the full query names
 * members. What a build reads from the lake is screened by these against the erasure records
 * (whose hashes only JavaScript can compare), so a rebuilt tile does not bring a forgotten person back.
 */
export function tilePersonsSql(d: Dialect, tiles: string, events: string, identities: string): string {
  const map = identityMapSql(d, identities);
  const user = normalizedIdSql(d, 'e.user_id');
  return (
    `SELECT DISTINCT coalesce(m.person_id, k.user_key) AS person_id FROM (\n` +
    `  SELECT t.source, t.user_key FROM ${tiles} AS t\n` +
    `  UNION SELECT e.source, ${user} AS user_key FROM ${events} AS e\n` +
    `) AS k LEFT JOIN (${map}) AS m ON m.source = k.source AND m.user_key = k.user_key\n` +
    `WHERE k.user_key IS NOT NULL`
  );
}
