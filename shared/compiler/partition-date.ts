/**
 * The `dt` partition date (YYYY-MM-DD) of an instant, for a partition bound. Partition folders
 * have four-digit years, and an ISO date after year 9999 (`+010000-01-01`) would sort below every
 * one of them: such a bound is the last date instead.
 */
export function partitionDate(epochMs: number): string {
  const iso = new Date(epochMs).toISOString();
  return iso.startsWith('+') ? '9999-12-31' : iso.slice(0, 10);
}
