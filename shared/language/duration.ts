import { shownValue } from './errors.ts';

/** Milliseconds in each duration unit of SPEC section 2 (there are no months). */
const UNIT_MS = { h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** A duration as written (`30d`) and its length. */
export interface Duration {
  readonly text: string;
  readonly ms: number;
}

const DURATION = /^([0-9]+)([hdw])$/;

/**
 * The longest duration: 100 years of 365.25 days (876600h, 36525d or 5217w). An extension of SPEC
 * section 2, which only asks for positive durations: a window reaching further back is "all
 * history" (leave the window out), while one reaching beyond what a date can hold (year -271821)
 * would stop the refresh of every cohort.
 */
export const MAX_DURATION_MS = 36_525 * UNIT_MS.d;

/**
 * Parses `<integer><unit>`; returns a message instead when the text is not a positive duration.
 */
export function parseDuration(text: unknown): Duration | { readonly error: string } {
  const shown = shownValue(text);
  if (typeof text !== 'string') return { error: `must be a duration such as 30d, 12h or 2w, got ${shown}` };
  const match = DURATION.exec(text);
  if (!match) return { error: `must be a duration such as 30d, 12h or 2w (units h, d, w; no months), got ${shown}` };
  const amount = Number(match[1]);
  if (amount <= 0) return { error: `must be a positive duration, got ${shown}` };
  const unit = match[2] as keyof typeof UNIT_MS;
  const ms = amount * UNIT_MS[unit];
  if (!Number.isSafeInteger(ms) || ms > MAX_DURATION_MS) {
    return { error: `must be at most 100 years (876600h, 36525d or 5217w; leave the window out for all history), got ${shown}` };
  }
  return { text, ms };
}
