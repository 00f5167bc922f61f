import type { LakeParams } from './params.ts';

/**
 * DuckDB macros for deterministic pseudo-randomness. `random()` differs between runs
 * and threads, so every draw is a hash of the seed and the draw's own key instead:
 * the same key gives the same number whatever the thread or row order. DuckDB's
 * multi-argument hash only combines the arguments' hashes, so draws that differ in one
 * argument come out correlated; hashing the result again mixes them apart.
 */
export function macrosSql(p: LakeParams): string {
  return `
CREATE OR REPLACE TEMP MACRO rnd(a, b, c, d) AS
  ((hash(hash(${p.seed}, a, b, c, d)) >> 11)::DOUBLE / 9007199254740992.0);
CREATE OR REPLACE TEMP MACRO hex16(a, b, c, d) AS printf('%016x', hash(hash(${p.seed}, a, b, c, d)));
CREATE OR REPLACE TEMP MACRO h64(a, b, c, d) AS hash(hash(${p.seed}, a, b, c, d));
CREATE OR REPLACE TEMP MACRO bits20(h, shift) AS ((h >> shift) & 1048575)::DOUBLE / 1048576.0;
CREATE OR REPLACE TEMP MACRO pick(lst, r) AS lst[1 + floor(r * len(lst))::INTEGER];
CREATE OR REPLACE TEMP MACRO b36(x, i) AS
  substr('0123456789abcdefghijklmnopqrstuvwxyz', ((x // CAST(pow(36, i) AS BIGINT)) % 36)::INTEGER + 1, 1);
CREATE OR REPLACE TEMP MACRO email_variant(e, r) AS CASE
  WHEN r < 0.05 THEN upper(e)
  WHEN r < 0.10 THEN upper(e[1]) || e[2:]
  WHEN r < 0.112 THEN '  ' || e || ' '
  ELSE e END;
CREATE OR REPLACE TEMP MACRO feature_of(r) AS CASE
  WHEN r < 0.30 THEN 'editor' WHEN r < 0.55 THEN 'dashboards' WHEN r < 0.75 THEN 'reports'
  WHEN r < 0.87 THEN 'export' WHEN r < 0.94 THEN 'api' ELSE 'integrations' END;
CREATE OR REPLACE TEMP MACRO plan_price(plan) AS CASE plan
  WHEN 'starter' THEN 19 WHEN 'pro' THEN 39 WHEN 'team' THEN 59 WHEN 'enterprise' THEN 89 ELSE 0 END;
`;
}
