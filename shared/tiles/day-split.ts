import type { InstantRange } from './measures.ts';

/** Milliseconds in a UTC day. */
export const DAY_MS = 86_400_000;

/** A window cut at UTC midnights: whole days (from tiles) and partial-day segments (from raw events). */
export interface DaySplit {
  /** Whole days `[from, to)` as midnights (from absent: every day before `to`); undefined when none. */
  readonly wholeDays?: InstantRange;
  /** The parts of partial days, each inside one UTC day, in time order. */
  readonly segments: readonly { readonly from: number; readonly to: number }[];
}

const floorDay = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;
const ceilDay = (ms: number) => Math.ceil(ms / DAY_MS) * DAY_MS;

/** Cuts `[from, to)` into the UTC days wholly inside it and the partial days at its edges. */
export function splitWindow(range: InstantRange): DaySplit {
  const lastEnd = floorDay(range.to);
  const tail = lastEnd < range.to ? [{ from: lastEnd, to: range.to }] : [];
  if (range.from === undefined) return { wholeDays: { to: lastEnd }, segments: tail };
  if (range.from >= range.to) return { segments: [] };
  const firstStart = ceilDay(range.from);
  if (firstStart < lastEnd) {
    const head = range.from < firstStart ? [{ from: range.from, to: firstStart }] : [];
    return { wholeDays: { from: firstStart, to: lastEnd }, segments: [...head, ...tail] };
  }
  // No whole day: the window lies in one day or straddles one midnight.
  if (firstStart >= range.to || firstStart === range.from) return { segments: [{ from: range.from, to: range.to }] };
  return {
    segments: [
      { from: range.from, to: firstStart },
      { from: firstStart, to: range.to },
    ],
  };
}

/** The UTC date (YYYY-MM-DD) of an instant. */
export const dayOf = (ms: number) => new Date(floorDay(ms)).toISOString().slice(0, 10);
