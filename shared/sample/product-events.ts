import { DAY_US, type LakeParams } from './params.ts';
import { sqlChoice, sqlJsonChoice } from './sql-choice.ts';

/** What people type into the product's search box. */
const SEARCHES = [
  'revenue by month',
  'churn',
  'invoice',
  'q3 pipeline',
  'active users',
  'export csv',
  'dashboard template',
  'api key',
  'salesforce sync',
  "o'brien account",
  'Umsatz 2024',
  'NPS "promoters"',
];

/**
 * A SELECT of the product usage (login, feature_used, export_created, search_performed,
 * invite_sent) of the UTC dates starting at `dayStartsUs` (epoch microseconds of their
 * midnights), with `tsu` in epoch microseconds inside its date and `day_us` the date.
 *
 * Each person-day draws an event count with mean `rate x weekday x lifecycle` (an
 * exponential draw, so activity is bursty), then a session of that many events in
 * the person's local working hours; the first event of a day is usually a login.
 */
export function productEventsSql(p: LakeParams, dayStartsUs: readonly number[]): string {
  const days = dayStartsUs.map((ds) => {
    const weekday = new Date(ds / 1000).getUTCDay();
    // Days between the middle of this date and `end`: the lifecycle personas key on it.
    const recent = (p.endUs - (ds + DAY_US / 2)) / DAY_US < 14;
    return `(${ds}, ${Math.round(ds / DAY_US)}, ${weekday === 0 || weekday === 6 ? 0.3 : 1}, ${recent ? 0.2 : 1}, ${recent ? 2.8 : 0.8})`;
  });
  return `
WITH days(day_us, day_number, week_factor, declining, accelerating) AS (VALUES ${days.join(', ')}
), pd AS (
  SELECT pid, user_id, fav_feature, export_share, tz_shift_s, active_from_us, day_us, day_number,
    rate * week_factor
      * CASE persona WHEN 'declining' THEN declining WHEN 'accelerating' THEN accelerating ELSE 1 END
      * CASE WHEN signup_us > day_us - ${14 * DAY_US} THEN 1.3 ELSE 1 END AS lam
  FROM persons, days
  WHERE active_from_us < day_us + ${DAY_US} AND (stop_us IS NULL OR stop_us > day_us)
), pn AS (
  SELECT *, h64(pid, day_number, -1, 0) AS hd FROM pd
), counted AS (
  SELECT *,
    least(80, floor(-ln(1 - bits20(hd, 0)) * lam + bits20(hd, 20)))::BIGINT AS n,
    8 * 3600 + floor(bits20(hd, 40) * 9 * 3600)::BIGINT - tz_shift_s AS start_s,
    30 + ((hd >> 60) * 25)::BIGINT AS gap_s
  FROM pn
), ev AS (
  SELECT *, unnest(range(n)) AS k FROM counted WHERE n > 0
), drawn AS (
  SELECT *, h64(pid, day_number, k, 0) AS h FROM ev
), typed AS (
  SELECT *, hash(h) AS h2,
    day_us + (((start_s + k * gap_s) % 86400 + 86400) % 86400) * 1000000 + (h % 1000000)::BIGINT AS tsu,
    bits20(h, 20) AS r_type, bits20(h, 40) AS r_prop, bits20(hash(h), 0) AS r_prop2
  FROM drawn
), named AS (
  SELECT *,
    CASE WHEN k = 0 AND bits20(h2, 40) < 0.75 THEN 0
         WHEN r_type < 0.55 THEN 1
         WHEN r_type < 0.55 + export_share THEN 2
         WHEN r_type < 0.73 + export_share THEN 3
         WHEN r_type < 0.76 + export_share THEN 4
         ELSE 0 END AS kind
  FROM typed
)
SELECT 'p_' || printf('%016x', h2) AS event_id, 'product' AS source, user_id,
  CASE kind WHEN 0 THEN 'login' WHEN 1 THEN 'feature_used' WHEN 2 THEN 'export_created'
    WHEN 3 THEN 'search_performed' ELSE 'invite_sent' END AS event_name,
  tsu, day_us,
  CASE kind
    WHEN 0 THEN CASE WHEN r_prop2 < 0.3 THEN NULL
      ELSE ${sqlJsonChoice('r_prop', 'method', ['password', 'sso', 'google'])} END
    WHEN 1 THEN concat('{"feature":"', CASE WHEN r_prop < 0.5 THEN fav_feature ELSE feature_of(bits20(h2, 20)) END,
      '","duration_s":', 5 + floor(r_prop2 * r_prop2 * 1800)::INTEGER, '}')
    WHEN 2 THEN concat(${sqlChoice('r_prop', ['{"format":"csv","rows":', '{"format":"csv","rows":', '{"format":"xlsx","rows":', '{"format":"pdf","rows":'])},
      1 + floor(r_prop2 * r_prop2 * 50000)::INTEGER, '}')
    WHEN 3 THEN ${sqlJsonChoice('r_prop', 'query', SEARCHES)}
    ELSE ${sqlJsonChoice('r_prop', 'role', ['member', 'member', 'admin', 'viewer'])}
  END AS properties,
  NULL::DOUBLE AS value
FROM named
WHERE tsu >= ${p.startUs} AND tsu < ${p.endUs} AND tsu > active_from_us
`;
}
