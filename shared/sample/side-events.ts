import { DAY_US, HOUR_US, type LakeParams } from './params.ts';

/**
 * Creates table `side_events`: every event that is not day-by-day product usage
 * (signups, CRM, support tickets, billing, and a few late events after `end`), with
 * `tsu` in epoch microseconds. These are few enough (about one in eight events) to
 * build in one statement; the per-day writer then slices them by UTC date. Sorted by
 * time, so each slice reads a few row groups and comes out in the same order every run.
 */
export function sideEventsSql(p: LakeParams): string {
  const { days, startUs: w, endUs: e } = p;
  const months = Math.floor(days / 30) + 3;
  return `
CREATE OR REPLACE TABLE side_events AS
WITH signup AS (
  SELECT pid, 'p_' || hex16(pid, 0, 0, 'signup') AS event_id, 'product' AS source, user_id,
    'signup' AS event_name, signup_us AS tsu,
    '{"utm_source":"' || pick(['google', 'linkedin', 'direct', 'partner', 'referral', 'g2'], rnd(pid, 0, 0, 'utm'))
      || '","plan":"free"}' AS properties, NULL::DOUBLE AS value
  FROM persons WHERE is_new
), late AS (
  SELECT pid, 'p_' || hex16(pid, 0, 0, 'late') AS event_id, 'product' AS source, user_id, 'login' AS event_name,
    ${e} + floor(rnd(pid, 0, 0, 'late_ts') * ${HOUR_US})::BIGINT AS tsu, '{"method":"sso"}' AS properties,
    NULL::DOUBLE AS value
  FROM persons WHERE late
), crm_lead AS (
  SELECT pid, 'crm_' || hex16(pid, 0, 0, 'lead') AS event_id, 'crm' AS source,
    email_variant(email, rnd(pid, 0, 0, 'lead_v')) AS user_id, 'lead_created' AS event_name,
    signup_us - ${HOUR_US} - floor(rnd(pid, 0, 0, 'lead_ts') * ${5 * DAY_US})::BIGINT AS tsu,
    '{"lead_source":"' || pick(['inbound', 'webinar', 'outbound', 'partner', 'event'], rnd(pid, 0, 0, 'lead_src'))
      || '"}' AS properties, NULL::DOUBLE AS value
  FROM persons WHERE has_crm AND is_new
), crm_profile_slots AS (
  SELECT ps.*, s,
    CASE WHEN s = 0 AND is_new THEN signup_us + ${HOUR_US} + floor(rnd(pid, s, 0, 'pu_ts') * ${2 * HOUR_US})::BIGINT
         WHEN s = 0 THEN ${w} + floor(rnd(pid, s, 0, 'pu_ts') * ${Math.min(days, 30) * DAY_US})::BIGINT
         ELSE ${w} + floor((s * 30 + rnd(pid, s, 0, 'pu_ts') * 30) * ${DAY_US})::BIGINT END AS tsu
  FROM persons ps, range(${months}) t(s)
  WHERE has_crm AND (s = 0 OR rnd(pid, s, 0, 'pu') < 0.3)
), crm_profile AS (
  SELECT pid, 'crm_' || hex16(pid, s, 0, 'profile') AS event_id, 'crm' AS source,
    email_variant(email, rnd(pid, s, 0, 'pu_v')) AS user_id, 'profile_updated' AS event_name, tsu,
    '{' || CASE WHEN s > 0 AND rnd(pid, s, 0, 'pu_nc') < 0.08 THEN ''
                ELSE '"country":"' || CASE WHEN s > 0 AND moved_country IS NOT NULL THEN moved_country ELSE country END
                  || '",' END
      || '"industry":"' || industry || '","company_size":"' || company_size || '","lifecycle_stage":"'
      || CASE WHEN paid THEN 'customer' WHEN is_new THEN 'lead' ELSE 'mql' END || '"}' AS properties,
    NULL::DOUBLE AS value
  FROM crm_profile_slots
  WHERE s = 0 OR tsu > active_from_us + ${DAY_US}
), crm_demo AS (
  SELECT pid, 'crm_' || hex16(pid, 0, 0, 'demo') AS event_id, 'crm' AS source,
    email_variant(email, rnd(pid, 0, 0, 'demo_v')) AS user_id, 'demo_booked' AS event_name,
    CASE WHEN is_new THEN signup_us + floor((1 + 9 * rnd(pid, 0, 0, 'demo_ts')) * ${DAY_US})::BIGINT
         ELSE ${w} + floor(rnd(pid, 0, 0, 'demo_ts') * ${days * DAY_US})::BIGINT END AS tsu,
    '{"meeting_type":"' || pick(['product_demo', 'pricing_call', 'security_review'], rnd(pid, 0, 0, 'demo_t'))
      || '"}' AS properties, NULL::DOUBLE AS value
  FROM persons
  WHERE has_crm AND rnd(pid, 0, 0, 'demo') < CASE
    WHEN is_new AND company_size IN ('201-1000', '1000+') THEN 0.4 WHEN is_new THEN 0.08 ELSE 0.015 END
), ticket_people AS (
  SELECT ps.*,
    least(${e}, coalesce(stop_us + ${14 * DAY_US}, ${e})) - active_from_us AS open_span_us,
    (CASE WHEN support_heavy THEN 0.6 WHEN persona = 'power' THEN 0.09 ELSE 0.05 END)
      * (least(${e}, coalesce(stop_us + ${14 * DAY_US}, ${e})) - active_from_us) / ${7 * DAY_US} AS lam
  FROM persons ps
), ticket_counts AS (
  -- Heavy accounts file tickets steadily; everyone else now and then.
  SELECT *, least(80, floor(CASE WHEN support_heavy THEN lam * (0.5 + rnd(pid, 0, 0, 'tk'))
                                 ELSE -ln(1 - rnd(pid, 0, 0, 'tk')) * lam END
                            + rnd(pid, 0, 0, 'tk2')))::BIGINT AS n
  FROM ticket_people WHERE open_span_us > 0
), live_tickets AS (
  SELECT *,
    active_from_us + 1 + floor(rnd(pid, 0, j, 'open') * (open_span_us - 1))::BIGINT AS open_us,
    rnd(pid, 0, j, 'prio') AS r_prio, rnd(pid, 0, j, 'csat') AS r_csat,
    floor((0.5 + pow(rnd(pid, 0, j, 'close'), 2) * 120) * ${HOUR_US})::BIGINT AS close_after_us
  FROM (SELECT *, unnest(range(n)) AS j FROM ticket_counts WHERE n > 0)
), ticket_opened AS (
  SELECT pid, 'zd_' || hex16(pid, 0, j, 'ticket') || '_o' AS event_id, 'support' AS source,
    email_variant(email, rnd(pid, 0, j, 'to_v')) AS user_id, 'ticket_opened' AS event_name, open_us AS tsu,
    '{"priority":"' || CASE WHEN r_prio < 0.30 THEN 'low' WHEN r_prio < 0.80 THEN 'normal'
        WHEN r_prio < CASE WHEN support_heavy THEN 0.90 ELSE 0.95 END THEN 'high' ELSE 'urgent' END
      || '","topic":"' || pick(['billing', 'bug', 'how_to', 'integration', 'account', 'performance', 'data_export'],
        rnd(pid, 0, j, 'topic'))
      || '","channel":"' || pick(['email', 'email', 'chat', 'phone'], rnd(pid, 0, j, 'channel')) || '"}' AS properties,
    NULL::DOUBLE AS value
  FROM live_tickets
), ticket_closed AS (
  SELECT pid, 'zd_' || hex16(pid, 0, j, 'ticket') || '_c' AS event_id, 'support' AS source,
    email_variant(email, rnd(pid, 0, j, 'tc_v')) AS user_id, 'ticket_closed' AS event_name,
    open_us + close_after_us AS tsu,
    '{"resolution":"' || pick(['solved', 'solved', 'solved', 'solved', 'duplicate', 'wont_fix'], rnd(pid, 0, j, 'res'))
      || '","csat":' || CASE WHEN r_csat < 0.35 THEN 'null' ELSE (
        CASE WHEN support_heavy THEN
          CASE WHEN r_csat < 0.45 THEN 1 WHEN r_csat < 0.56 THEN 2 WHEN r_csat < 0.69 THEN 3 WHEN r_csat < 0.83 THEN 4 ELSE 5 END
        ELSE
          CASE WHEN r_csat < 0.375 THEN 1 WHEN r_csat < 0.41 THEN 2 WHEN r_csat < 0.48 THEN 3 WHEN r_csat < 0.67 THEN 4 ELSE 5 END
        END)::VARCHAR END || '}' AS properties,
    NULL::DOUBLE AS value
  FROM live_tickets
  WHERE open_us + close_after_us < ${e}
), billing_base AS (
  SELECT * FROM persons WHERE billing_id IS NOT NULL
), billing_created AS (
  SELECT pid, 'evt_' || hex16(pid, 0, 0, 'created') AS event_id, 'billing' AS source, billing_id AS user_id,
    'subscription_changed' AS event_name, signup_us + 60000000 AS tsu,
    '{"plan":"free","previous_plan":null,"seats":1,"billing_period":"monthly"}' AS properties, NULL::DOUBLE AS value
  FROM billing_base WHERE is_new
), trial_started AS (
  SELECT pid, 'evt_' || hex16(pid, 0, 0, 'trial') AS event_id, 'billing' AS source, billing_id AS user_id,
    'trial_started' AS event_name, signup_us + 120000000 + floor(rnd(pid, 0, 0, 'trial_ts') * ${DAY_US})::BIGINT AS tsu,
    '{"plan":"pro","trial_days":14}' AS properties, NULL::DOUBLE AS value
  FROM billing_base WHERE trial
), trial_lapsed AS (
  SELECT pid, 'evt_' || hex16(pid, 0, 0, 'lapsed') AS event_id, 'billing' AS source, billing_id AS user_id,
    'subscription_changed' AS event_name, signup_us + ${14 * DAY_US} + 3600000000 AS tsu,
    '{"plan":"free","previous_plan":"pro_trial","seats":1,"billing_period":"monthly"}' AS properties, NULL::DOUBLE AS value
  FROM billing_base WHERE trial AND NOT paid
), converted AS (
  SELECT pid, 'evt_' || hex16(pid, 0, 0, 'converted') AS event_id, 'billing' AS source, billing_id AS user_id,
    'subscription_changed' AS event_name, sub_start_us AS tsu,
    '{"plan":"' || plan || '","previous_plan":"' || CASE WHEN trial THEN 'pro_trial' ELSE 'free' END
      || '","seats":' || seats::VARCHAR || ',"billing_period":"monthly"}' AS properties, NULL::DOUBLE AS value
  FROM billing_base WHERE paid AND is_new
), renewal AS (
  SELECT pid, 'evt_' || hex16(pid, 0, 0, 'renewal') AS event_id, 'billing' AS source, billing_id AS user_id,
    'subscription_changed' AS event_name,
    ${w} + floor(rnd(pid, 0, 0, 'renewal_ts') * ${Math.max(1, days - 21) * DAY_US})::BIGINT AS tsu,
    '{"plan":"' || plan || '","previous_plan":"'
      || CASE WHEN rnd(pid, 0, 0, 'renewal_prev') < 0.7 OR plan = 'starter' THEN plan
              WHEN plan = 'pro' THEN 'starter' WHEN plan = 'team' THEN 'pro' ELSE 'team' END
      || '","seats":' || seats::VARCHAR || ',"billing_period":"'
      || CASE WHEN plan = 'enterprise' THEN 'annual' ELSE 'monthly' END || '"}' AS properties, NULL::DOUBLE AS value
  FROM billing_base WHERE paid AND NOT is_new
), cancelled AS (
  SELECT pid, 'evt_' || hex16(pid, 0, 0, 'cancel') AS event_id, 'billing' AS source, billing_id AS user_id,
    'subscription_changed' AS event_name, cancel_us AS tsu,
    '{"plan":"free","previous_plan":"' || plan || '","seats":1,"reason":"'
      || pick(['too_expensive', 'missing_features', 'switched_competitor', 'not_using'], rnd(pid, 0, 0, 'cancel_r'))
      || '"}' AS properties, NULL::DOUBLE AS value
  FROM billing_base WHERE cancel_us > sub_start_us
), upgraded AS (
  SELECT pid, 'evt_' || hex16(pid, 0, 0, 'upgrade') AS event_id, 'billing' AS source, billing_id AS user_id,
    'subscription_changed' AS event_name, upgrade_us AS tsu,
    '{"plan":"' || upgrade_plan || '","previous_plan":"' || plan || '","seats":'
      || (seats + floor(rnd(pid, 0, 0, 'upseats') * 5)::INTEGER)::VARCHAR || ',"billing_period":"monthly"}' AS properties,
    NULL::DOUBLE AS value
  FROM billing_base WHERE upgrade_us > sub_start_us
), cycles AS (
  SELECT b.*, k, sub_start_us + k * ${30 * DAY_US} + floor(rnd(pid, k, 0, 'due') * ${2 * HOUR_US})::BIGINT AS due_us,
    rnd(pid, k, 0, 'fail') < fail_p AS failed,
    rnd(pid, k, 0, 'recover') < 0.55 AS recovered,
    CASE WHEN upgrade_us > sub_start_us AND sub_start_us + k * ${30 * DAY_US} >= upgrade_us THEN upgrade_plan ELSE plan END
      AS cycle_plan,
    CASE WHEN country IN ('DE', 'AT', 'FR', 'NL', 'ES', 'IT') THEN 'EUR' WHEN country = 'GB' THEN 'GBP'
         WHEN country = 'CH' THEN 'CHF' ELSE 'USD' END AS currency,
    'in_' || hex16(pid, k, 0, 'invoice') AS invoice_id
  FROM billing_base b, range(${months}) t(k)
  WHERE paid AND (cancel_us IS NULL OR cancel_us <= sub_start_us OR sub_start_us + k * ${30 * DAY_US} < cancel_us)
), priced AS (
  SELECT *, round(seats * plan_price(cycle_plan) * (1 + 0.1 * rnd(pid, k, 0, 'usage')), 2) AS amount,
    pick(['card_declined', 'insufficient_funds', 'expired_card', 'processing_error'], rnd(pid, k, 0, 'reason')) AS reason
  FROM cycles WHERE due_us >= ${w} - ${5 * DAY_US} AND due_us < ${e}
), invoice_paid AS (
  SELECT pid, 'evt_' || hex16(pid, k, 0, 'paid') AS event_id, 'billing' AS source, billing_id AS user_id,
    'invoice_paid' AS event_name,
    CASE WHEN failed THEN due_us + floor((1 + 3 * rnd(pid, k, 0, 'retry')) * ${DAY_US})::BIGINT ELSE due_us END AS tsu,
    '{"invoice_id":"' || invoice_id || '","currency":"' || currency || '","plan":"' || cycle_plan || '"'
      || CASE WHEN failed THEN ',"retry":true' ELSE '' END || '}' AS properties, amount AS value
  FROM priced WHERE NOT failed OR recovered
), payment_failed AS (
  SELECT pid, 'evt_' || hex16(pid, k, attempt, 'failed') AS event_id, 'billing' AS source, billing_id AS user_id,
    'payment_failed' AS event_name, due_us + (attempt - 1) * ${3 * DAY_US} AS tsu,
    '{"invoice_id":"' || invoice_id || '","reason":"' || reason || '","attempt":' || attempt::VARCHAR || '}' AS properties,
    amount AS value
  FROM priced, range(1, 3) t(attempt)
  WHERE failed AND (attempt = 1 OR NOT recovered)
), all_side AS (
  SELECT * FROM signup
  UNION ALL SELECT * FROM crm_lead UNION ALL SELECT * FROM crm_profile UNION ALL SELECT * FROM crm_demo
  UNION ALL SELECT * FROM ticket_opened UNION ALL SELECT * FROM ticket_closed
  UNION ALL SELECT * FROM billing_created UNION ALL SELECT * FROM trial_started UNION ALL SELECT * FROM trial_lapsed
  UNION ALL SELECT * FROM converted UNION ALL SELECT * FROM renewal UNION ALL SELECT * FROM cancelled
  UNION ALL SELECT * FROM upgraded UNION ALL SELECT * FROM invoice_paid UNION ALL SELECT * FROM payment_failed
)
SELECT * FROM all_side WHERE tsu >= ${w} AND tsu < ${e}
UNION ALL SELECT * FROM late
ORDER BY tsu, pid;
`;
}
