-- cohort-refresh: 6 cohorts as of 2024-06-15T12:00:00.000Z
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
    WHERE dt >= '2023-06-14' AND dt <= '2024-06-16' AND trim(user_id, ' ' || chr(9) || chr(13) || chr(10)) <> ''
  ) AS scanned
  WHERE event_id IS NOT NULL AND event_id <> '' AND source IS NOT NULL AND source <> '' AND event_name IS NOT NULL AND event_name <> ''
    AND ts IS NOT NULL AND ts < TIMESTAMP '2024-06-15 12:00:00.000 UTC' AND ts >= TIMESTAMP '2023-06-15 12:00:00.000 UTC'
),
behaviour_deduped AS (
  SELECT event_id, source, user_key, event_name, ts, properties, value FROM (
    SELECT v.*, row_number() OVER (PARTITION BY event_id ORDER BY ts, source, user_key, event_name, properties, value) AS copy_no
    FROM behaviour_valid AS v
  ) AS numbered_copies
  WHERE copy_no = 1
),
events AS (
  SELECT coalesce(m.person_id, e.user_key) AS person_id, e.event_id, e.source, e.event_name, e.ts, e.value, CASE WHEN (e.event_name = 'login' AND e.source = 'product') THEN coalesce(nullif(json_format(json_extract(e.properties, '$["properties"]["platform"]')), '0'), json_extract_scalar(e.properties, '$["properties"]["platform"]')) END AS prop_json_0
  FROM behaviour_deduped AS e
  LEFT JOIN identity_map AS m ON m.source = e.source AND m.user_key = e.user_key
),
typed_events AS (
  SELECT person_id, event_id, source, event_name, ts, value, prop_json_0 AS p0_j
  FROM events
),
valued_events AS (
  SELECT *, CASE substr(p0_j, 1, 1) WHEN '"' THEN json_extract_scalar(p0_j, '$') WHEN '{' THEN NULL WHEN '[' THEN NULL WHEN 'n' THEN NULL WHEN 't' THEN p0_j WHEN 'f' THEN p0_j ELSE CASE WHEN regexp_like(p0_j, '\A(?:-?(0|[1-9][0-9]*))\z') THEN p0_j WHEN CAST(p0_j AS DOUBLE) = floor(CAST(p0_j AS DOUBLE)) AND abs(CAST(p0_j AS DOUBLE)) < 1E15 THEN format('%.0f', CAST(p0_j AS DOUBLE)) || '.0' WHEN CAST(format('%.1f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.1f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.2f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.2f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.3f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.3f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.4f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.4f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.5f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.5f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.6f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.6f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.7f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.7f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.8f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.8f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.9f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.9f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.10f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.10f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.11f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.11f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.12f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.12f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.13f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.13f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.14f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.14f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.15f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.15f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.16f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.16f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.17f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.17f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.18f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.18f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.19f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.19f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.20f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.20f', CAST(p0_j AS DOUBLE)) ELSE CAST(CAST(p0_j AS DOUBLE) AS VARCHAR) END END AS p0_t, coalesce(p0_j <> 'null', false) AS p0_x
  FROM typed_events
),
scored_events AS (
  SELECT *, CASE WHEN regexp_like(p0_t, '\A(?:-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)\z') THEN TRY_CAST(p0_t AS DOUBLE) END AS p0_n
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
    coalesce(count_if((e.event_name = 'login' AND e.ts >= TIMESTAMP '2024-04-15 12:00:00.000 UTC' AND e.ts < TIMESTAMP '2024-05-15 12:00:00.000 UTC')), 0) AS a0,
    coalesce(count_if((e.event_name = 'login' AND e.ts >= TIMESTAMP '2024-05-15 12:00:00.000 UTC' AND e.ts < TIMESTAMP '2024-06-15 12:00:00.000 UTC')), 0) AS a1,
    coalesce(count_if(((e.event_name = 'login' AND e.source = 'product' AND coalesce(e.p0_t = 'web', false)) AND e.ts >= TIMESTAMP '2024-05-15 12:00:00.000 UTC' AND e.ts < TIMESTAMP '2024-06-15 12:00:00.000 UTC')), 0) AS a2,
    coalesce(count_if(((e.event_name = 'login' AND e.source = 'product' AND coalesce(e.p0_t = 'web', false)) AND e.ts >= TIMESTAMP '2024-04-15 12:00:00.000 UTC' AND e.ts < TIMESTAMP '2024-05-15 12:00:00.000 UTC')), 0) AS a3,
    coalesce(count_if((e.event_name = 'login' AND e.ts >= TIMESTAMP '2024-03-15 12:00:00.000 UTC')), 0) AS a4,
    coalesce(count_if((e.event_name = 'login' AND e.ts >= TIMESTAMP '2024-06-08 12:00:00.000 UTC' AND e.ts < TIMESTAMP '2024-06-15 12:00:00.000 UTC')), 0) AS a5,
    coalesce(count_if((e.event_name = 'login' AND e.ts >= TIMESTAMP '2024-06-01 12:00:00.000 UTC' AND e.ts < TIMESTAMP '2024-06-08 12:00:00.000 UTC')), 0) AS a6,
    coalesce(count_if((e.event_name = 'login' AND e.ts >= TIMESTAMP '2024-05-25 12:00:00.000 UTC' AND e.ts < TIMESTAMP '2024-06-01 12:00:00.000 UTC')), 0) AS a7,
    sum(e.value) FILTER (WHERE (e.event_name = 'invoice_paid' AND e.ts >= TIMESTAMP '2023-06-15 12:00:00.000 UTC')) AS a8
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
)
SELECT person_id,
  a0 >= 1E0 AS "c_last_month",
  (CASE WHEN a0 > 0 THEN CAST(a1 AS DOUBLE) / a0 > 1E0 WHEN a1 > 0 THEN TRUE ELSE FALSE END) AS "c_monthly_growth",
  ((CASE WHEN (a2 >= 2E0 AND a2 <= 5E0) THEN 1 ELSE 0 END) + (CASE WHEN (a3 >= 2E0 AND a3 <= 5E0) THEN 1 ELSE 0 END)) >= 1 AS "c_monthly_twice",
  a4 >= 1E0 AS "c_quarter_active",
  ((CASE WHEN a5 >= 1E0 THEN 1 ELSE 0 END) + (CASE WHEN a6 >= 1E0 THEN 1 ELSE 0 END) + (CASE WHEN a7 >= 1E0 THEN 1 ELSE 0 END)) >= 2 AS "c_weekly_regular",
  coalesce(a8, 0) >= 1E2 AS "c_year_buyers"
FROM per_person_scored
