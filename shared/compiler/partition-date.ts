/**
 * The `dt` partition date (YYYY-MM-DD) of an instant, for a partition bound. Partition folders
 * have four-digit years, and an ISO date after year 9999 (`+010000-01-01`) would sort below every
 * one of them: such a bound is the last date instead.
 */
export function partitionDate(epochMs: number): string {
  const iso = new Date(epochMs).toISOString();
  return iso.startsWith('+') ? '9999-12-31' : iso.slice(0, 10);
}

const PARTITION_FOLDER = /^dt=(\d{4}-\d{2}-\d{2})$/;

/**
 * The date of a lake partition folder's name (`dt=YYYY-MM-DD`), or undefined when the name is
 * not that or not a real calendar date (`dt=2026-13-45`): such a folder is not read, by either
 * engine, and is reported (SPEC section 1 names only `dt=YYYY-MM-DD` folders).
 */
export function partitionFolderDate(name: string): string | undefined {
  const date = PARTITION_FOLDER.exec(name)?.[1];
  if (date === undefined) return undefined;
  const day = new Date(`${date}T00:00:00Z`);
  return !Number.isNaN(day.getTime()) && day.toISOString().slice(0, 10) === date ? date : undefined;
}
