-- cohort-refresh: 3 cohorts as of 2024-06-15T12:00:00.000Z
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
    WHERE dt >= '2024-06-07' AND dt <= '2024-06-16' AND trim(user_id, ' ' || chr(9) || chr(13) || chr(10)) <> ''
  ) AS scanned
  WHERE event_id IS NOT NULL AND event_id <> '' AND source IS NOT NULL AND source <> '' AND event_name IS NOT NULL AND event_name <> ''
    AND ts IS NOT NULL AND ts < TIMESTAMP '2024-06-15 12:00:00.000 UTC' AND ts >= TIMESTAMP '2024-06-08 12:00:00.000 UTC'
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
population_valid AS (
  SELECT event_id, source, user_key, event_name, ts
  FROM (
    SELECT event_id, source, CASE WHEN strpos(trim(user_id, ' ' || chr(9) || chr(13) || chr(10)), '@') > 0 THEN lower(trim(user_id, ' ' || chr(9) || chr(13) || chr(10))) ELSE trim(user_id, ' ' || chr(9) || chr(13) || chr(10)) END AS user_key, event_name, ts
    FROM cohorts.events AS lake_events
    WHERE dt <= '2024-06-16' AND trim(user_id, ' ' || chr(9) || chr(13) || chr(10)) <> ''
  ) AS scanned
  WHERE event_id IS NOT NULL AND event_id <> '' AND source IS NOT NULL AND source <> '' AND event_name IS NOT NULL AND event_name <> ''
    AND ts IS NOT NULL AND ts < TIMESTAMP '2024-06-15 12:00:00.000 UTC'
),
population AS (
  SELECT DISTINCT coalesce(m.person_id, e.user_key) AS person_id
  FROM population_valid AS e
  LEFT JOIN identity_map AS m ON m.source = e.source AND m.user_key = e.user_key
),
per_person AS (
  SELECT p.person_id,
    coalesce(count_if((e.event_name = 'login' AND e.ts >= TIMESTAMP '2024-06-08 12:00:00.000 UTC')), 0) AS a0
  FROM population AS p
  LEFT JOIN scored_events AS e ON e.person_id = p.person_id
  GROUP BY p.person_id
),
per_person_valued AS (
  SELECT *
  FROM per_person
),
per_person_scored AS (
  SELECT *
  FROM per_person_valued
),
list_entries AS (
  SELECT list_name, CASE WHEN strpos(trim(entry, ' ' || chr(9) || chr(13) || chr(10)), '@') > 0 THEN lower(trim(entry, ' ' || chr(9) || chr(13) || chr(10))) ELSE trim(entry, ' ' || chr(9) || chr(13) || chr(10)) END AS person_id
  FROM cohorts.lists AS lists
  WHERE list_name IN ('blocked_people', 'vip_customers') AND trim(entry, ' ' || chr(9) || chr(13) || chr(10)) <> ''
),
listed AS (
  SELECT person_id, count_if(list_name = 'blocked_people') > 0 AS list_0, count_if(list_name = 'vip_customers') > 0 AS list_1
  FROM list_entries
  GROUP BY person_id
),
per_person_listed AS (
  SELECT p.*, coalesce(l.list_0, FALSE) AS list_0, coalesce(l.list_1, FALSE) AS list_1
  FROM per_person_scored AS p
  LEFT JOIN listed AS l ON l.person_id = p.person_id
)
SELECT person_id,
  (a0 >= 1E0 AND (NOT list_0)) AS "c_active_not_blocked",
  (list_0 OR list_1) AS "c_vip_or_blocked",
  list_1 AS "c_vips"
FROM per_person_listed
