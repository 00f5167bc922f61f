import { z } from 'zod';
import type { Freshness } from '../store/manifest.ts';
import type { CheckResult } from '../store/manifest.ts';
import type { Describes, Wire } from '../wire-types.ts';
import { num, rounded } from './source-format.ts';
import { NO_SOURCE, type SourceCheckRow } from './source-rows.ts';

const HOUR_SECONDS = 3600;

/** A planned cohort's freshness (`Freshness` and its bound), as it crosses Step Functions in the plan. */
export const plannedFreshnessSchema = z.object({
  newest_event: z.string().nullable(),
  staleness_seconds: z.number().int().min(0).nullable(),
  /** The staleness past which the version's `staleness` check warns (`checks.staleness` of its cadence). */
  bound_seconds: z.number().min(0),
});

/** A planned cohort's freshness and the bound it is judged against. */
export type PlannedFreshness = Wire<typeof plannedFreshnessSchema>;

const exact: Describes<typeof plannedFreshnessSchema, Freshness & { readonly bound_seconds: number }> = true;
void exact;

/** The newest valid event before the as-of, per source, from the source-check rows (epoch ms; null: none in the days read). */
export function newestEventBySource(rows: readonly SourceCheckRow[]): ReadonlyMap<string, number | null> {
  const newest = new Map<string, number | null>();
  for (const row of rows)
    if (row.grain === 'source' && row.source !== null && row.source !== NO_SOURCE) newest.set(row.source, row.latest_ms);
  return newest;
}

/**
 * How old a cohort's data is at the as-of: the newest valid event before it among the sources the
 * cohort reads (every source when `sources` is null), and the seconds between the two. Both null
 * when those sources have no valid event in the days the source checks read (28 days and more).
 */
export function cohortFreshness(
  newest: ReadonlyMap<string, number | null>,
  sources: readonly string[] | null,
  asOf: Date,
  boundHours: number,
): PlannedFreshness {
  const read = sources === null ? [...newest.values()] : sources.map((source) => newest.get(source) ?? null);
  const latest = read.reduce<number | null>((max, ms) => (ms !== null && (max === null || ms > max) ? ms : max), null);
  return {
    newest_event: latest === null ? null : new Date(latest).toISOString(),
    staleness_seconds: latest === null ? null : Math.max(0, Math.floor((asOf.getTime() - latest) / 1000)),
    bound_seconds: Math.round(boundHours * HOUR_SECONDS),
  };
}

/** Hours as people read them: 0.3, 26, 170.5. */
const hoursText = (seconds: number) => `${num(rounded(seconds / HOUR_SECONDS, 1))} hours`;

/**
 * The `staleness` check of a version: warns (never fails: the members are right for the data
 * there is) when its newest event is older than its cadence's bound, or when it read none.
 */
export function stalenessCheck(freshness: PlannedFreshness, cadence: string): CheckResult {
  const bound = `the bound of ${hoursText(freshness.bound_seconds)} for a ${cadence} cohort`;
  const threshold = rounded(freshness.bound_seconds / HOUR_SECONDS, 2);
  if (freshness.staleness_seconds === null) {
    return {
      name: 'staleness',
      status: 'warn',
      observed: null,
      threshold,
      message: `no valid event of the sources it reads in the days the source checks read; past ${bound}`,
    };
  }
  const stale = freshness.staleness_seconds > freshness.bound_seconds;
  const age = `newest event ${hoursText(freshness.staleness_seconds)} before as-of (${freshness.newest_event})`;
  return {
    name: 'staleness',
    status: stale ? 'warn' : 'pass',
    observed: rounded(freshness.staleness_seconds / HOUR_SECONDS, 2),
    threshold,
    message: stale ? `${age}, past ${bound}` : `${age}, within ${bound}`,
  };
}
