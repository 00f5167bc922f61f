/** Share of identity rows whose user_id carries surrounding spaces. */
const SPACED_SHARE = 0.005;

/**
 * `COPY` of the identity map to the parquet file named by parameter `$path`: CRM and
 * support e-mails and billing customer ids mapped to the product user id. About 3% of
 * the people who talk to support are left unmapped, as in real identity maps.
 */
export function identitiesCopySql(): string {
  return `
COPY (
  WITH mapped AS (
    SELECT pid, 'crm' AS source, email AS uid, user_id AS person_id FROM persons WHERE has_crm
    UNION ALL
    SELECT pid, 'support', email, user_id FROM persons
    WHERE NOT unmapped_support AND pid IN (SELECT pid FROM side_events WHERE source = 'support')
    UNION ALL
    SELECT pid, 'billing', billing_id, user_id FROM persons WHERE billing_id IS NOT NULL
  )
  SELECT source,
    CASE WHEN rnd(pid, 0, source, 'spaced') < ${SPACED_SHARE} THEN '  ' || uid || ' ' ELSE uid END AS user_id,
    person_id
  FROM mapped
  ORDER BY source, uid
) TO $path (FORMAT parquet, COMPRESSION zstd)
`;
}
