import { DAY_US, HOUR_US, type LakeParams } from './params.ts';

/** Share of people who sign up inside the window; the rest signed up before it. */
const NEW_SHARE = 0.4;
/** Scales every persona's product activity; tuned so 200k people x 90 days is about 10M events. */
const RATE_SCALE = 0.75;
/** How many people send a few events just after `end` (clock skew). */
const LATE_PEOPLE = 5;

/**
 * Creates table `persons`: one row per person with a persona, lifecycle instants
 * (epoch microseconds), profile traits and the ids other sources know them by.
 *
 * Personas: power, active, casual, declining (activity in the last 14 days about a
 * fifth of before), accelerating, dormant (silent for the last 30+ days) and tourist
 * (a short burst after signing up, then nothing).
 */
export function personsSql(p: LakeParams): string {
  const { people: n, days, startUs: w, endUs: e } = p;
  return `
CREATE OR REPLACE TABLE persons AS
WITH b AS (
  SELECT i AS pid,
    printf('u_%06d', i + 1) AS user_id,
    rnd(i, 0, 0, 'persona') AS r_persona,
    rnd(i, 0, 0, 'new') < ${NEW_SHARE} AS is_new,
    rnd(i, 0, 0, 'signup') AS r_signup,
    rnd(i, 0, 0, 'mult') AS r_mult,
    rnd(i, 0, 0, 'country') AS r_country,
    rnd(i, 0, 0, 'paid') AS r_paid,
    rnd(i, 0, 0, 'tier') AS r_tier,
    rnd(i, 0, 0, 'seats') AS r_seats,
    rnd(i, 0, 0, 'stop') AS r_stop,
    rnd(i, 0, 0, 'sub') AS r_sub
  FROM range(${n}) t(i)
), persona AS (
  SELECT *,
    CASE WHEN r_persona < 0.07 THEN 'power'
         WHEN r_persona < 0.37 THEN 'active'
         WHEN r_persona < 0.60 THEN 'casual'
         WHEN r_persona < 0.71 THEN 'declining'
         WHEN r_persona < 0.75 THEN 'accelerating'
         WHEN r_persona < 0.89 THEN 'dormant'
         ELSE 'tourist' END AS persona,
    CASE WHEN is_new THEN ${w} + floor(r_signup * ${days * DAY_US})::BIGINT END AS signup_us,
    CASE WHEN r_country < 0.30 THEN 'US' WHEN r_country < 0.36 THEN 'CA' WHEN r_country < 0.46 THEN 'GB'
         WHEN r_country < 0.58 THEN 'DE' WHEN r_country < 0.61 THEN 'AT' WHEN r_country < 0.64 THEN 'CH'
         WHEN r_country < 0.71 THEN 'FR' WHEN r_country < 0.76 THEN 'NL' WHEN r_country < 0.79 THEN 'SE'
         WHEN r_country < 0.83 THEN 'ES' WHEN r_country < 0.87 THEN 'IT' WHEN r_country < 0.90 THEN 'PL'
         WHEN r_country < 0.94 THEN 'AU' WHEN r_country < 0.98 THEN 'IN' ELSE 'BR' END AS country
  FROM b
), plan AS (
  SELECT *,
    r_paid < CASE persona WHEN 'power' THEN 0.85 WHEN 'active' THEN 0.6 WHEN 'casual' THEN 0.35
      WHEN 'declining' THEN 0.6 WHEN 'accelerating' THEN 0.45 WHEN 'dormant' THEN 0.2 ELSE 0.03 END AS paid,
    CASE WHEN persona = 'power' THEN 0.3 + 0.7 * r_tier ELSE r_tier END AS r_tier2
  FROM persona
), tiers AS (
  SELECT *,
    CASE WHEN NOT paid THEN 'free' WHEN r_tier2 < 0.35 THEN 'starter' WHEN r_tier2 < 0.70 THEN 'pro'
         WHEN r_tier2 < 0.90 THEN 'team' ELSE 'enterprise' END AS plan
  FROM plan
), life AS (
  SELECT *,
    CASE plan WHEN 'starter' THEN 1 + floor(r_seats * 4) WHEN 'pro' THEN 2 + floor(r_seats * 12)
      WHEN 'team' THEN 5 + floor(r_seats * 36) WHEN 'enterprise' THEN 25 + floor(r_seats * r_seats * 400)
      ELSE 1 END::INTEGER AS seats,
    coalesce(signup_us, ${w}) AS active_from_us,
    CASE
      WHEN persona = 'dormant' THEN greatest(coalesce(signup_us, ${w}) + ${3 * DAY_US},
        ${e} - floor(${DAY_US} * ${days > 40 ? `(31 + r_stop * ${days - 36})` : `(${days} * (0.3 + 0.5 * r_stop))`})::BIGINT)
      WHEN persona = 'tourist' AND is_new THEN signup_us + floor((2 + 6 * r_stop) * ${DAY_US})::BIGINT
    END AS stop_us,
    is_new AND rnd(pid, 0, 0, 'trial') < 0.6 AS trial
  FROM tiers
), subs AS (
  SELECT *,
    CASE WHEN NOT paid THEN NULL
         WHEN is_new THEN signup_us + (CASE WHEN trial THEN ${14 * DAY_US} ELSE floor(r_sub * ${3 * DAY_US})::BIGINT END)
           + floor(rnd(pid, 0, 0, 'sub2') * ${6 * HOUR_US})::BIGINT
         ELSE ${w} - floor(r_sub * ${30 * DAY_US})::BIGINT END AS sub_start_us
  FROM life
)
SELECT pid, user_id, persona, is_new, signup_us, active_from_us, stop_us, country, plan, paid, seats, trial,
  sub_start_us,
  ${RATE_SCALE} * (0.5 + r_mult) * CASE persona
    WHEN 'power' THEN 4.5 WHEN 'active' THEN 1.3 WHEN 'casual' THEN 0.35 WHEN 'declining' THEN 1.3
    WHEN 'accelerating' THEN 0.6 WHEN 'dormant' THEN 0.8 ELSE (CASE WHEN is_new THEN 1.5 ELSE 0.08 END) END AS rate,
  CASE WHEN persona = 'power' THEN 0.14 ELSE 0.06 END AS export_share,
  feature_of(rnd(pid, 0, 0, 'fav')) AS fav_feature,
  (CASE country WHEN 'US' THEN -6 WHEN 'CA' THEN -5 WHEN 'BR' THEN -3 WHEN 'GB' THEN 0 WHEN 'AU' THEN 10
     WHEN 'IN' THEN 5 ELSE 1 END) * 3600 AS tz_shift_s,
  CASE WHEN rnd(pid, 0, 0, 'moved') < 0.03 THEN pick(['US', 'GB', 'DE', 'NL', 'CH', 'SE', 'CA'], rnd(pid, 0, 0, 'moved2')) END AS moved_country,
  pick(['software', 'fintech', 'retail', 'healthcare', 'manufacturing', 'education', 'media', 'logistics'],
    rnd(pid, 0, 0, 'industry')) AS industry,
  CASE plan WHEN 'enterprise' THEN pick(['201-1000', '1000+', '1000+'], rnd(pid, 0, 0, 'size'))
    WHEN 'team' THEN pick(['51-200', '51-200', '201-1000'], rnd(pid, 0, 0, 'size'))
    ELSE pick(['1-10', '1-10', '11-50', '11-50', '11-50', '51-200', '201-1000', '1000+'], rnd(pid, 0, 0, 'size')) END
    AS company_size,
  pick(['anna', 'ben', 'carla', 'david', 'eva', 'felix', 'gina', 'hugo', 'ines', 'jonas', 'kim', 'lena', 'marco',
        'nora', 'omar', 'paula', 'quinn', 'rosa', 'sam', 'tara', 'uma', 'victor', 'wei', 'yara', 'zoe'],
    rnd(pid, 0, 0, 'first'))
    || '.' || pick(['schmidt', 'mueller', 'smith', 'garcia', 'dubois', 'rossi', 'novak', 'silva', 'jones', 'kim',
        'nguyen', 'patel', 'berg', 'meier', 'taylor', 'brown', 'huber', 'keller', 'jansen', 'lopez'],
    rnd(pid, 0, 0, 'last'))
    || (pid + 1)::VARCHAR || '@'
    || pick(['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark', 'wayne', 'wonka', 'tyrell', 'cyberdyne',
        'soylent', 'vandelay', 'aperture', 'oscorp', 'gringotts', 'pied-piper', 'bluth', 'dunder', 'massive', 'nakatomi'],
    rnd(pid, 0, 0, 'company')) || '.'
    || CASE country WHEN 'DE' THEN 'de' WHEN 'AT' THEN 'at' WHEN 'CH' THEN 'ch' WHEN 'GB' THEN 'co.uk' WHEN 'FR' THEN 'fr'
         ELSE pick(['com', 'com', 'io'], rnd(pid, 0, 0, 'tld')) END AS email,
  rnd(pid, 0, 0, 'crm') < CASE WHEN paid THEN 0.95 ELSE 0.7 END AS has_crm,
  rnd(pid, 0, 0, 'heavy') < CASE WHEN plan IN ('team', 'enterprise') THEN 0.15 ELSE 0.06 END AS support_heavy,
  rnd(pid, 0, 0, 'unmapped') < 0.03 AS unmapped_support,
  CASE WHEN paid AND persona = 'declining' AND rnd(pid, 0, 0, 'cancel') < 0.35
    THEN ${e} - floor((3 + 17 * rnd(pid, 0, 0, 'cancel2')) * ${DAY_US})::BIGINT END AS cancel_us,
  CASE WHEN paid AND persona IN ('accelerating', 'power') AND plan <> 'enterprise' AND rnd(pid, 0, 0, 'upgrade') < 0.3
    THEN ${e} - floor(rnd(pid, 0, 0, 'upgrade2') * ${12 * DAY_US})::BIGINT END AS upgrade_us,
  CASE plan WHEN 'starter' THEN 'pro' WHEN 'pro' THEN 'team' ELSE 'enterprise' END AS upgrade_plan,
  CASE WHEN rnd(pid, 0, 0, 'risk') < 0.08 THEN 0.35 ELSE 0.04 END AS fail_p,
  CASE WHEN paid OR is_new THEN 'cus_' || b36(x, 5) || b36(x, 4) || b36(x, 3) || b36(x, 2) || b36(x, 1) || b36(x, 0)
  END AS billing_id,
  rnd(pid, 0, 0, 'late') < ${LATE_PEOPLE / n} AS late
FROM (SELECT *, (pid * 1000003 + ${p.billingOffset}) % ${36 ** 6} AS x FROM subs)
ORDER BY pid;
`;
}
