-- cohort-refresh: 4 cohorts as of 2024-06-15T12:00:00.000Z
WITH identity_map AS (
  SELECT source, user_key, min(person_id) AS person_id
  FROM (SELECT source, CASE WHEN strpos(trim(user_id, ' ' || chr(9) || chr(13) || chr(10)), '@') > 0 THEN lower(trim(user_id, ' ' || chr(9) || chr(13) || chr(10))) ELSE trim(user_id, ' ' || chr(9) || chr(13) || chr(10)) END AS user_key, person_id FROM cohorts.identities AS identities) AS i
  WHERE person_id IS NOT NULL AND person_id <> '' AND user_key IS NOT NULL AND user_key <> '' AND source IS NOT NULL
  GROUP BY source, user_key
),
behaviour_valid AS (
  SELECT event_id, source, user_key, event_name, ts, properties, value
  FROM (
    SELECT event_id, source, CASE WHEN strpos(trim(user_id, ' ' || chr(9) || chr(13) || chr(10)), '@') > 0 THEN lower(trim(user_id, ' ' || chr(9) || chr(13) || chr(10))) ELSE trim(user_id, ' ' || chr(9) || chr(13) || chr(10)) END AS user_key, event_name, ts, properties, value
    FROM cohorts.events AS lake_events
    WHERE dt <= '2024-06-16' AND trim(user_id, ' ' || chr(9) || chr(13) || chr(10)) <> ''
  ) AS scanned
  WHERE event_id IS NOT NULL AND event_id <> '' AND source IS NOT NULL AND source <> '' AND event_name IS NOT NULL AND event_name <> ''
    AND ts IS NOT NULL AND ts < TIMESTAMP '2024-06-15 12:00:00.000 UTC'
),
behaviour_deduped AS (
  SELECT event_id, source, user_key, event_name, ts, properties, value FROM (
    SELECT v.*, row_number() OVER (PARTITION BY event_id ORDER BY ts, source, user_key, event_name, properties, value) AS copy_no
    FROM behaviour_valid AS v
  ) AS numbered_copies
  WHERE copy_no = 1
),
events AS (
  SELECT coalesce(m.person_id, e.user_key) AS person_id, e.event_id, e.source, e.event_name, e.ts, e.value
  FROM behaviour_deduped AS e
  LEFT JOIN identity_map AS m ON m.source = e.source AND m.user_key = e.user_key
),
typed_events AS (
  SELECT person_id, event_id, source, event_name, ts, value
  FROM events
),
valued_events AS (
  SELECT *
  FROM typed_events
),
scored_events AS (
  SELECT *
  FROM valued_events
),
per_person AS (
  SELECT person_id,
    coalesce(count_if((e.event_name = 'export_created' AND e.ts >= TIMESTAMP '2024-05-16 12:00:00.000 UTC')), 0) AS a0,
    coalesce(count_if(e.event_name = 'export_created'), 0) AS a1
  FROM scored_events AS e
  GROUP BY person_id
),
per_person_valued AS (
  SELECT *
  FROM per_person
),
per_person_scored AS (
  SELECT *
  FROM per_person_valued
)
SELECT person_id,
  a0 = 3E0 AS "c_exports_exactly_three",
  (a0 >= 2E0 AND a0 < 1E1) AS "c_exports_in_range",
  (a1 > 0E0 AND a1 <= 2E0) AS "c_few_exports",
  a1 = 0E0 AS "c_never_exported"
FROM per_person_scored
