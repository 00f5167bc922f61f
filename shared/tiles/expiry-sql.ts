import type { Dialect } from '../compiler/dialect.ts';
import { TILE_COLUMNS } from './tile-sql.ts';

/**
 * The rollup tile's rows from `rows` (tile rows of the rollup and of the days folded into it): one
 * row per measure, identity key and distinct value. Counts, sums and absolute totals are added up,
 * `integral` holds when it held every day, the latest winner is the greatest `(latest_ts,
 * latest_event_id)` (the SPEC's tie rule), and presence counts add up: what the tiled query
 * computes from the days themselves, so it reads the rollup as one more day.
 */
export function rollupSql(d: Dialect, rows: string): string {
  const latest = (column: string) =>
    `${d.latestBy(`r.${column}`, 'r.latest_ts', 'r.latest_event_id')} FILTER (WHERE r.latest_ts IS NOT NULL)`;
  const items: Record<(typeof TILE_COLUMNS)[number], string> = {
    measure: 'r.measure',
    source: 'r.source',
    user_key: 'r.user_key',
    n: 'CAST(sum(r.n) AS BIGINT)',
    total: 'CAST(sum(r.total) AS DOUBLE)',
    abs_total: 'CAST(sum(r.abs_total) AS DOUBLE)',
    integral: 'bool_and(r.integral)',
    value: 'r.value',
    latest_ts: latest('latest_ts'),
    latest_event_id: latest('latest_event_id'),
    latest_json: latest('latest_json'),
  };
  return (
    `SELECT ${TILE_COLUMNS.map((c) => `${items[c]} AS ${c}`).join(', ')}\nFROM ${rows} AS r\n` +
    'GROUP BY r.measure, r.source, r.user_key, r.value'
  );
}
