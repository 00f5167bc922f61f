-- cohort-refresh: 11 cohorts as of 2024-06-15T12:00:00.000Z
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
  SELECT coalesce(m.person_id, e.user_key) AS person_id, e.event_id, e.source, e.event_name, e.ts, e.value, CASE WHEN e.event_name = 'export_created' THEN coalesce(nullif(json_format(json_extract(e.properties, '$["properties"]["plan"]')), '0'), json_extract_scalar(e.properties, '$["properties"]["plan"]')) END AS prop_json_0, CASE WHEN e.event_name = 'export_created' THEN coalesce(nullif(json_format(json_extract(e.properties, '$["properties"]["format"]')), '0'), json_extract_scalar(e.properties, '$["properties"]["format"]')) END AS prop_json_1, CASE WHEN e.event_name = 'export_created' THEN coalesce(nullif(json_format(json_extract(e.properties, '$["properties"]["rows"]')), '0'), json_extract_scalar(e.properties, '$["properties"]["rows"]')) END AS prop_json_2
  FROM behaviour_deduped AS e
  LEFT JOIN identity_map AS m ON m.source = e.source AND m.user_key = e.user_key
),
typed_events AS (
  SELECT person_id, event_id, source, event_name, ts, value, prop_json_0 AS p0_j, prop_json_1 AS p1_j, prop_json_2 AS p2_j
  FROM events
),
valued_events AS (
  SELECT *, CASE substr(p0_j, 1, 1) WHEN '"' THEN json_extract_scalar(p0_j, '$') WHEN '{' THEN NULL WHEN '[' THEN NULL WHEN 'n' THEN NULL WHEN 't' THEN p0_j WHEN 'f' THEN p0_j ELSE CASE WHEN regexp_like(p0_j, '\A(?:-?(0|[1-9][0-9]*))\z') THEN p0_j WHEN CAST(p0_j AS DOUBLE) = floor(CAST(p0_j AS DOUBLE)) AND abs(CAST(p0_j AS DOUBLE)) < 1E15 THEN format('%.0f', CAST(p0_j AS DOUBLE)) || '.0' WHEN CAST(format('%.1f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.1f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.2f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.2f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.3f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.3f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.4f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.4f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.5f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.5f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.6f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.6f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.7f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.7f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.8f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.8f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.9f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.9f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.10f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.10f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.11f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.11f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.12f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.12f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.13f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.13f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.14f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.14f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.15f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.15f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.16f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.16f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.17f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.17f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.18f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.18f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.19f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.19f', CAST(p0_j AS DOUBLE)) WHEN CAST(format('%.20f', CAST(p0_j AS DOUBLE)) AS DOUBLE) = CAST(p0_j AS DOUBLE) THEN format('%.20f', CAST(p0_j AS DOUBLE)) ELSE CAST(CAST(p0_j AS DOUBLE) AS VARCHAR) END END AS p0_t, coalesce(p0_j <> 'null', false) AS p0_x, CASE substr(p1_j, 1, 1) WHEN '"' THEN json_extract_scalar(p1_j, '$') WHEN '{' THEN NULL WHEN '[' THEN NULL WHEN 'n' THEN NULL WHEN 't' THEN p1_j WHEN 'f' THEN p1_j ELSE CASE WHEN regexp_like(p1_j, '\A(?:-?(0|[1-9][0-9]*))\z') THEN p1_j WHEN CAST(p1_j AS DOUBLE) = floor(CAST(p1_j AS DOUBLE)) AND abs(CAST(p1_j AS DOUBLE)) < 1E15 THEN format('%.0f', CAST(p1_j AS DOUBLE)) || '.0' WHEN CAST(format('%.1f', CAST(p1_j AS DOUBLE)) AS DOUBLE) = CAST(p1_j AS DOUBLE) THEN format('%.1f', CAST(p1_j AS DOUBLE)) WHEN CAST(format('%.2f', CAST(p1_j AS DOUBLE)) AS DOUBLE) = CAST(p1_j AS DOUBLE) THEN format('%.2f', CAST(p1_j AS DOUBLE)) WHEN CAST(format('%.3f', CAST(p1_j AS DOUBLE)) AS DOUBLE) = CAST(p1_j AS DOUBLE) THEN format('%.3f', CAST(p1_j AS DOUBLE)) WHEN CAST(format('%.4f', CAST(p1_j AS DOUBLE)) AS DOUBLE) = CAST(p1_j AS DOUBLE) THEN format('%.4f', CAST(p1_j AS DOUBLE)) WHEN CAST(format('%.5f', CAST(p1_j AS DOUBLE)) AS DOUBLE) = CAST(p1_j AS DOUBLE) THEN format('%.5f', CAST(p1_j AS DOUBLE)) WHEN CAST(format('%.6f', CAST(p1_j AS DOUBLE)) AS DOUBLE) = CAST(p1_j AS DOUBLE) THEN format('%.6f', CAST(p1_j AS DOUBLE)) WHEN CAST(format('%.7f', CAST(p1_j AS DOUBLE)) AS DOUBLE) = CAST(p1_j AS DOUBLE) THEN format('%.7f', CAST(p1_j AS DOUBLE)) WHEN CAST(format('%.8f', CAST(p1_j AS DOUBLE)) AS DOUBLE) = CAST(p1_j AS DOUBLE) THEN format('%.8f', CAST(p1_j AS DOUBLE)) WHEN CAST(format('%.9f', CAST(p1_j AS DOUBLE)) AS DOUBLE) = CAST(p1_j AS DOUBLE) THEN format('%.9f', CAST(p1_j AS DOUBLE)) WHEN CAST(format('%.10f', CAST(p1_j AS DOUBLE)) AS DOUBLE) = CAST(p1_j AS DOUBLE) THEN format('%.10f', CAST(p1_j AS DOUBLE)) WHEN CAST(format('%.11f', CAST(p1_j AS DOUBLE)) AS DOUBLE) = CAST(p1_j AS DOUBLE) THEN format('%.11f', CAST(p1_j AS DOUBLE)) WHEN CAST(format('%.12f', CAST(p1_j AS DOUBLE)) AS DOUBLE) = CAST(p1_j AS DOUBLE) THEN format('%.12f', CAST(p1_j AS DOUBLE)) WHEN CAST(format('%.13f', CAST(p1_j AS DOUBLE)) AS DOUBLE) = CAST(p1_j AS DOUBLE) THEN format('%.13f', CAST(p1_j AS DOUBLE)) WHEN CAST(format('%.14f', CAST(p1_j AS DOUBLE)) AS DOUBLE) = CAST(p1_j AS DOUBLE) THEN format('%.14f', CAST(p1_j AS DOUBLE)) WHEN CAST(format('%.15f', CAST(p1_j AS DOUBLE)) AS DOUBLE) = CAST(p1_j AS DOUBLE) THEN format('%.15f', CAST(p1_j AS DOUBLE)) WHEN CAST(format('%.16f', CAST(p1_j AS DOUBLE)) AS DOUBLE) = CAST(p1_j AS DOUBLE) THEN format('%.16f', CAST(p1_j AS DOUBLE)) WHEN CAST(format('%.17f', CAST(p1_j AS DOUBLE)) AS DOUBLE) = CAST(p1_j AS DOUBLE) THEN format('%.17f', CAST(p1_j AS DOUBLE)) WHEN CAST(format('%.18f', CAST(p1_j AS DOUBLE)) AS DOUBLE) = CAST(p1_j AS DOUBLE) THEN format('%.18f', CAST(p1_j AS DOUBLE)) WHEN CAST(format('%.19f', CAST(p1_j AS DOUBLE)) AS DOUBLE) = CAST(p1_j AS DOUBLE) THEN format('%.19f', CAST(p1_j AS DOUBLE)) WHEN CAST(format('%.20f', CAST(p1_j AS DOUBLE)) AS DOUBLE) = CAST(p1_j AS DOUBLE) THEN format('%.20f', CAST(p1_j AS DOUBLE)) ELSE CAST(CAST(p1_j AS DOUBLE) AS VARCHAR) END END AS p1_t, coalesce(p1_j <> 'null', false) AS p1_x, CASE substr(p2_j, 1, 1) WHEN '"' THEN json_extract_scalar(p2_j, '$') WHEN '{' THEN NULL WHEN '[' THEN NULL WHEN 'n' THEN NULL WHEN 't' THEN p2_j WHEN 'f' THEN p2_j ELSE CASE WHEN regexp_like(p2_j, '\A(?:-?(0|[1-9][0-9]*))\z') THEN p2_j WHEN CAST(p2_j AS DOUBLE) = floor(CAST(p2_j AS DOUBLE)) AND abs(CAST(p2_j AS DOUBLE)) < 1E15 THEN format('%.0f', CAST(p2_j AS DOUBLE)) || '.0' WHEN CAST(format('%.1f', CAST(p2_j AS DOUBLE)) AS DOUBLE) = CAST(p2_j AS DOUBLE) THEN format('%.1f', CAST(p2_j AS DOUBLE)) WHEN CAST(format('%.2f', CAST(p2_j AS DOUBLE)) AS DOUBLE) = CAST(p2_j AS DOUBLE) THEN format('%.2f', CAST(p2_j AS DOUBLE)) WHEN CAST(format('%.3f', CAST(p2_j AS DOUBLE)) AS DOUBLE) = CAST(p2_j AS DOUBLE) THEN format('%.3f', CAST(p2_j AS DOUBLE)) WHEN CAST(format('%.4f', CAST(p2_j AS DOUBLE)) AS DOUBLE) = CAST(p2_j AS DOUBLE) THEN format('%.4f', CAST(p2_j AS DOUBLE)) WHEN CAST(format('%.5f', CAST(p2_j AS DOUBLE)) AS DOUBLE) = CAST(p2_j AS DOUBLE) THEN format('%.5f', CAST(p2_j AS DOUBLE)) WHEN CAST(format('%.6f', CAST(p2_j AS DOUBLE)) AS DOUBLE) = CAST(p2_j AS DOUBLE) THEN format('%.6f', CAST(p2_j AS DOUBLE)) WHEN CAST(format('%.7f', CAST(p2_j AS DOUBLE)) AS DOUBLE) = CAST(p2_j AS DOUBLE) THEN format('%.7f', CAST(p2_j AS DOUBLE)) WHEN CAST(format('%.8f', CAST(p2_j AS DOUBLE)) AS DOUBLE) = CAST(p2_j AS DOUBLE) THEN format('%.8f', CAST(p2_j AS DOUBLE)) WHEN CAST(format('%.9f', CAST(p2_j AS DOUBLE)) AS DOUBLE) = CAST(p2_j AS DOUBLE) THEN format('%.9f', CAST(p2_j AS DOUBLE)) WHEN CAST(format('%.10f', CAST(p2_j AS DOUBLE)) AS DOUBLE) = CAST(p2_j AS DOUBLE) THEN format('%.10f', CAST(p2_j AS DOUBLE)) WHEN CAST(format('%.11f', CAST(p2_j AS DOUBLE)) AS DOUBLE) = CAST(p2_j AS DOUBLE) THEN format('%.11f', CAST(p2_j AS DOUBLE)) WHEN CAST(format('%.12f', CAST(p2_j AS DOUBLE)) AS DOUBLE) = CAST(p2_j AS DOUBLE) THEN format('%.12f', CAST(p2_j AS DOUBLE)) WHEN CAST(format('%.13f', CAST(p2_j AS DOUBLE)) AS DOUBLE) = CAST(p2_j AS DOUBLE) THEN format('%.13f', CAST(p2_j AS DOUBLE)) WHEN CAST(format('%.14f', CAST(p2_j AS DOUBLE)) AS DOUBLE) = CAST(p2_j AS DOUBLE) THEN format('%.14f', CAST(p2_j AS DOUBLE)) WHEN CAST(format('%.15f', CAST(p2_j AS DOUBLE)) AS DOUBLE) = CAST(p2_j AS DOUBLE) THEN format('%.15f', CAST(p2_j AS DOUBLE)) WHEN CAST(format('%.16f', CAST(p2_j AS DOUBLE)) AS DOUBLE) = CAST(p2_j AS DOUBLE) THEN format('%.16f', CAST(p2_j AS DOUBLE)) WHEN CAST(format('%.17f', CAST(p2_j AS DOUBLE)) AS DOUBLE) = CAST(p2_j AS DOUBLE) THEN format('%.17f', CAST(p2_j AS DOUBLE)) WHEN CAST(format('%.18f', CAST(p2_j AS DOUBLE)) AS DOUBLE) = CAST(p2_j AS DOUBLE) THEN format('%.18f', CAST(p2_j AS DOUBLE)) WHEN CAST(format('%.19f', CAST(p2_j AS DOUBLE)) AS DOUBLE) = CAST(p2_j AS DOUBLE) THEN format('%.19f', CAST(p2_j AS DOUBLE)) WHEN CAST(format('%.20f', CAST(p2_j AS DOUBLE)) AS DOUBLE) = CAST(p2_j AS DOUBLE) THEN format('%.20f', CAST(p2_j AS DOUBLE)) ELSE CAST(CAST(p2_j AS DOUBLE) AS VARCHAR) END END AS p2_t, coalesce(p2_j <> 'null', false) AS p2_x
  FROM typed_events
),
scored_events AS (
  SELECT *, CASE WHEN regexp_like(p0_t, '\A(?:-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)\z') THEN TRY_CAST(p0_t AS DOUBLE) END AS p0_n, CASE WHEN regexp_like(p1_t, '\A(?:-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)\z') THEN TRY_CAST(p1_t AS DOUBLE) END AS p1_n, CASE WHEN regexp_like(p2_t, '\A(?:-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)\z') THEN TRY_CAST(p2_t AS DOUBLE) END AS p2_n
  FROM valued_events
),
per_person AS (
  SELECT person_id,
    coalesce(count_if((e.event_name = 'export_created' AND coalesce(e.p0_t = 'team', false))), 0) AS a0,
    coalesce(count_if((e.event_name = 'export_created' AND e.p1_x)), 0) AS a1,
    coalesce(count_if((e.event_name = 'export_created' AND coalesce(e.p2_n > 1E2, false))), 0) AS a2,
    coalesce(count_if((e.event_name = 'export_created' AND coalesce(e.p2_n >= 5E-1, false))), 0) AS a3,
    coalesce(count_if((e.event_name = 'export_created' AND (e.p0_t IS NOT NULL AND (coalesce(e.p0_t = 'pro', false) OR coalesce(e.p0_n = 5E0, false) OR coalesce(e.p0_t = 'true', false))))), 0) AS a4,
    coalesce(count_if((e.event_name = 'export_created' AND coalesce(e.p2_n < -3E0, false))), 0) AS a5,
    coalesce(count_if((e.event_name = 'export_created' AND coalesce(e.p2_n <= 1E6, false))), 0) AS a6,
    coalesce(count_if((e.event_name = 'export_created' AND (e.p0_t IS NOT NULL AND NOT coalesce(e.p0_t = 'free', false)))), 0) AS a7,
    coalesce(count_if((e.event_name = 'export_created' AND NOT e.p1_x)), 0) AS a8,
    coalesce(count_if((e.event_name = 'export_created' AND (e.p0_t IS NOT NULL AND NOT (coalesce(e.p0_t = 'free', false) OR coalesce(e.p0_t = 'trial', false))))), 0) AS a9,
    coalesce(count_if((e.event_name = 'export_created' AND ((e.p0_t IS NOT NULL AND NOT coalesce(e.p0_t = 'team_trial', false)) AND (e.p0_t IS NOT NULL AND (coalesce(e.p0_t = 'pro', false) OR coalesce(e.p0_t = 'team', false)))) AND (coalesce(e.p2_n >= 5E0, false) AND coalesce(e.p2_n < 1E2, false)))), 0) AS a10
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
  a0 >= 1E0 AS "c_op_eq",
  a1 >= 1E0 AS "c_op_exists",
  a2 >= 1E0 AS "c_op_gt",
  a3 >= 1E0 AS "c_op_gte",
  a4 >= 1E0 AS "c_op_in",
  a5 >= 1E0 AS "c_op_lt",
  a6 >= 1E0 AS "c_op_lte",
  a7 >= 1E0 AS "c_op_neq",
  a8 >= 1E0 AS "c_op_not_exists",
  a9 >= 1E0 AS "c_op_not_in",
  a10 >= 1E0 AS "c_op_several"
FROM per_person_scored
