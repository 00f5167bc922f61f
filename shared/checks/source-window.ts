import { partitionDate } from '../compiler/partition-date.ts';

/** Milliseconds in a day. */
export const DAY_MS = 86_400_000;

/** Full UTC days of history the volume check compares the last day with. */
export const HISTORY_DAYS = 28;

/**
 * The days the source checks look at for an as-of instant T. Days are numbered since the Unix
 * epoch (day 0 is 1970-01-01, UTC).
 */
export interface SourceCheckWindow {
  /** The last full UTC day before T: `[lastDay, lastDay + 1)` ends at or before T. */
  readonly lastDay: number;
  /** The first of the 28 history days (`lastDay - 28`); the window starts at its midnight. */
  readonly firstDay: number;
  /** Instant where the window starts (midnight of firstDay, epoch ms). */
  readonly startMs: number;
  /** T itself (epoch ms): events at or after it are invisible. */
  readonly endMs: number;
  /** `dt` partitions read: one day of slack before the window, and up to T + 1 day (SPEC section 1). */
  readonly partitions: { readonly from: string; readonly to: string };
  /**
   * Partitions whose rows without a usable ts still count (the window's days up to the one
   * holding T): a row without a ts is visible when its partition starts before T.
   */
  readonly undatedPartitions: { readonly from: string; readonly to: string };
}

/** The UTC date (YYYY-MM-DD) of an epoch day number. */
export const dayText = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);

/** The epoch day number of an instant (epoch ms). */
export const dayOf = (epochMs: number): number => Math.floor(epochMs / DAY_MS);

/**
 * The source-check window for as-of T: the 28 full UTC days before the last full day, the last
 * full day, and the part of T's own day before T.
 */
export function sourceCheckWindow(asOf: Date): SourceCheckWindow {
  const endMs = asOf.getTime();
  if (!Number.isFinite(endMs)) throw new Error('the as-of instant is not a valid date');
  const lastDay = dayOf(endMs) - 1;
  const firstDay = lastDay - HISTORY_DAYS;
  return {
    lastDay,
    firstDay,
    startMs: firstDay * DAY_MS,
    endMs,
    partitions: { from: dayText(firstDay - 1), to: partitionDate(endMs + DAY_MS) },
    undatedPartitions: { from: dayText(firstDay), to: dayText(dayOf(endMs - 1)) },
  };
}
