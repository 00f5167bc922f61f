-- cohort-refresh: 2 cohorts as of 2024-06-15T12:00:00.000Z
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
  SELECT coalesce(m.person_id, e.user_key) AS person_id, e.event_id, e.source, e.event_name, e.ts, e.value, CASE WHEN (e.event_name = 'viewed' AND e.ts >= TIMESTAMP '2024-05-16 12:00:00.000 UTC') THEN coalesce(nullif(json_format(json_extract(e.properties, '$["properties"]["path"]')), '0'), json_extract_scalar(e.properties, '$["properties"]["path"]')) END AS prop_json_0
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
per_person AS (
  SELECT person_id,
    coalesce(count_if((e.event_name = 'login' AND e.ts >= TIMESTAMP '2024-06-08 12:00:00.000 UTC')), 0) AS a0
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
),
sequence_sq0_instants AS (
  SELECT e.person_id AS person_id, e.ts, bool_or((e.event_name = 'viewed' AND e.ts >= TIMESTAMP '2024-05-16 12:00:00.000 UTC' AND coalesce(e.p0_t = '/pricing', false))) AS step1, bool_or((e.event_name = 'carted' AND e.ts >= TIMESTAMP '2024-05-16 12:00:00.000 UTC')) AS step2, bool_or((e.event_name = 'bought' AND e.source IN ('web', 'app') AND e.ts >= TIMESTAMP '2024-05-16 12:00:00.000 UTC')) AS step3
  FROM scored_events AS e
  WHERE ((e.event_name = 'viewed' AND e.ts >= TIMESTAMP '2024-05-16 12:00:00.000 UTC' AND coalesce(e.p0_t = '/pricing', false)) OR (e.event_name = 'carted' AND e.ts >= TIMESTAMP '2024-05-16 12:00:00.000 UTC') OR (e.event_name = 'bought' AND e.source IN ('web', 'app') AND e.ts >= TIMESTAMP '2024-05-16 12:00:00.000 UTC'))
  GROUP BY e.person_id, e.ts
),
sequence_sq0_step2 AS (
  SELECT *, coalesce(step2 AND max(CASE WHEN step1 THEN ts END) OVER (PARTITION BY person_id ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) >= ts - INTERVAL '1' DAY, FALSE) AS end2
  FROM sequence_sq0_instants
),
sequence_sq0_step3 AS (
  SELECT *, coalesce(step3 AND max(CASE WHEN end2 THEN ts END) OVER (PARTITION BY person_id ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) >= ts - INTERVAL '1' DAY, FALSE) AS end3
  FROM sequence_sq0_step2
),
sequence_sq0 AS (
  SELECT DISTINCT person_id
  FROM sequence_sq0_step3
  WHERE end3
),
sequence_sq1_instants AS (
  SELECT e.person_id AS person_id, e.ts, bool_or(e.event_name = 'signed_up') AS step1, bool_or((e.event_name = 'upgraded' AND e.source = 'billing')) AS step2
  FROM scored_events AS e
  WHERE (e.event_name = 'signed_up' OR (e.event_name = 'upgraded' AND e.source = 'billing'))
  GROUP BY e.person_id, e.ts
),
sequence_sq1_step2 AS (
  SELECT *, (step2 AND max(CASE WHEN step1 THEN ts END) OVER (PARTITION BY person_id ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) IS NOT NULL) AS end2
  FROM sequence_sq1_instants
),
sequence_sq1 AS (
  SELECT DISTINCT person_id
  FROM sequence_sq1_step2
  WHERE end2
),
per_person_sequenced AS (
  SELECT p.*, sq0_h.person_id IS NOT NULL AS sq0, sq1_h.person_id IS NOT NULL AS sq1
  FROM per_person_scored AS p
  LEFT JOIN sequence_sq0 AS sq0_h ON sq0_h.person_id = p.person_id
  LEFT JOIN sequence_sq1 AS sq1_h ON sq1_h.person_id = p.person_id
)
SELECT person_id,
  sq0 AS "c_funnel_in_a_day",
  (sq1 AND a0 >= 1E0) AS "c_signup_then_upgrade"
FROM per_person_sequenced
