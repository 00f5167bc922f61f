/** One day in microseconds, the unit every generator query computes timestamps in. */
export const DAY_US = 86_400_000_000;
/** One hour in microseconds. */
export const HOUR_US = 3_600_000_000;

/**
 * The validated numbers a sample lake is generated from. Every SQL string of the
 * generator is built from these numbers and constant text only.
 */
export interface LakeParams {
  readonly seed: number;
  readonly people: number;
  readonly days: number;
  /** The end instant (exclusive) in epoch microseconds. */
  readonly endUs: number;
  /** The window start, `endUs - days * DAY_US`. */
  readonly startUs: number;
  /** Offset that scrambles billing ids per seed, in [0, 36^6). */
  readonly billingOffset: number;
}

const BILLING_SPACE = 36 ** 6;

/** The largest numbers a sample lake takes (the command line refuses more, as a usage error). */
export const SAMPLE_LIMITS = { people: 10_000_000, days: 3650, seed: 2 ** 31 - 1 } as const;

/** Checks the caller's numbers and derives the constants the SQL needs. */
export function lakeParams(input: { people: number; days: number; end: Date; seed: number }): LakeParams {
  const { people, days, end, seed } = input;
  if (!Number.isSafeInteger(people) || people < 1 || people > SAMPLE_LIMITS.people) {
    throw new Error(`people must be an integer between 1 and ${SAMPLE_LIMITS.people}, got ${String(people)}`);
  }
  if (!Number.isSafeInteger(days) || days < 1 || days > SAMPLE_LIMITS.days) {
    throw new Error(`days must be an integer between 1 and ${SAMPLE_LIMITS.days}, got ${String(days)}`);
  }
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > SAMPLE_LIMITS.seed) {
    throw new Error(`seed must be an integer between 0 and ${SAMPLE_LIMITS.seed}, got ${String(seed)}`);
  }
  const endMs = end.getTime();
  if (!Number.isFinite(endMs)) throw new Error('end must be a valid date');
  const endUs = endMs * 1000;
  return {
    seed,
    people,
    days,
    endUs,
    startUs: endUs - days * DAY_US,
    billingOffset: Number((BigInt(seed) * 7919n + 104_729n) % BigInt(BILLING_SPACE)),
  };
}

/** `YYYY-MM-DD` of an epoch-microsecond instant, in UTC. */
export function utcDate(us: number): string {
  return new Date(us / 1000).toISOString().slice(0, 10);
}

/** Epoch microseconds of the UTC midnight at or before `us`. */
export function utcMidnight(us: number): number {
  return Math.floor(us / DAY_US) * DAY_US;
}
