import { DAY_US, type LakeParams } from './params.ts';
import { productEventsSql } from './product-events.ts';

/** Share of events written twice with the same event_id (replays). */
const DUPLICATE_SHARE = 0.003;
/** Share of events made invalid: half lose their user_id, half their event_name. */
const INVALID_SHARE = 0.002;

/**
 * `COPY` of every event of one UTC date to the parquet file named by parameter `$path`:
 * the date's product usage plus its slice of `side_events`, with a few replayed
 * (duplicated) and broken rows. Rows come in a fixed order (person by person, then the
 * side events as generated), not by time: sorting every file would cost about a third
 * more run time and readers do not need it.
 */
export function dayCopySql(p: LakeParams, dayStartUs: number): string {
  const columns = 'event_id, source, user_id, event_name, tsu, properties, value';
  return `
COPY (
  WITH day_events AS (
    SELECT ${columns} FROM (${productEventsSql(p, [dayStartUs])})
    UNION ALL
    SELECT ${columns} FROM side_events WHERE tsu >= ${dayStartUs} AND tsu < ${dayStartUs + DAY_US}
  ), marked AS (
    SELECT *, hash(event_id) AS mark,
      unnest(CASE WHEN bits20(hash(event_id), 20) < ${DUPLICATE_SHARE} THEN [0, 1] ELSE [0] END) AS copy
    FROM day_events
  )
  SELECT event_id, source,
    CASE WHEN bits20(mark, 0) < ${INVALID_SHARE / 2} THEN '' ELSE user_id END AS user_id,
    CASE WHEN bits20(mark, 0) >= ${INVALID_SHARE / 2} AND bits20(mark, 0) < ${INVALID_SHARE} THEN NULL
         ELSE event_name END AS event_name,
    make_timestamp(tsu) AS ts, properties, value
  FROM marked
) TO $path (FORMAT parquet)
`;
}
