import { type Duration, parseDuration } from './duration.ts';
import { shownValue } from './errors.ts';

/**
 * A calendar duration as written (`3months`, `1y`) and its number of months (`1y` is 12). Its length
 * depends on the instant it is counted back from (see {@link instantBefore}).
 */
export interface MonthsDuration {
  readonly text: string;
  readonly months: number;
}

/**
 * A duration that is counted back from the as-of instant: a window key, a velocity window or a
 * period's `every`. Either a fixed length (`30d`) or calendar months (`3months`, `1y`).
 */
export type WindowDuration = Duration | MonthsDuration;

/** 100 years of months: the same limit as duration.ts MAX_DURATION_MS for the fixed units. */
export const MAX_MONTHS = 1_200;

const MONTHS = /^([0-9]+)(months?|y)$/;
/** `mo` stays refused, as the SPEC's conformance case bad_duration requires (SPEC section 2: no months). */
const MO = /^[0-9]+mo$/;
const FIXED = /^[0-9]+[hdw]$/;
const DAY_MS = 86_400_000;

/** The units a window accepts, for messages. */
export const WINDOW_UNITS = 'units h, d, w, month or months for calendar months, y for 12 months';

/**
 * Parses `<integer><unit>` with units h, d, w, month or months, and y; returns a message instead
 * when it is not one (`3mo` is refused with the spelling to use).
 */
export function parseWindowDuration(text: unknown): WindowDuration | { readonly error: string } {
  const match = typeof text === 'string' ? MONTHS.exec(text) : null;
  if (!match) {
    const fixed = parseDuration(text);
    if (!('error' in fixed) || (typeof text === 'string' && FIXED.test(text))) return fixed;
    if (typeof text === 'string' && MO.test(text)) {
      const amount = text.slice(0, -2);
      const spelt = `${amount}${amount === '1' ? 'month' : 'months'}`;
      return { error: `must be a duration such as 30d or ${spelt}: mo is not a unit (SPEC section 2), got ${shownValue(text)}` };
    }
    return { error: `must be a duration such as 30d, 12h, 2w, 3months or 1y (${WINDOW_UNITS}), got ${shownValue(text)}` };
  }
  const months = Number(match[1]) * (match[2] === 'y' ? 12 : 1);
  if (months <= 0) return { error: `must be a positive duration, got ${shownValue(text)}` };
  if (!Number.isSafeInteger(months) || months > MAX_MONTHS) {
    return { error: `must be at most 100 years (1200months or 100y; leave the window out for all history), got ${shownValue(text)}` };
  }
  return { text: text as string, months };
}

/** Whether a duration counts calendar months. */
export const isMonths = (duration: WindowDuration): duration is MonthsDuration => 'months' in duration;

/**
 * The instant `times` durations before `asOf` (ms since the epoch). Calendar months step back
 * from `asOf` itself in UTC, the day clamped to the last day of the month reached (Mar 31 minus
 * 1month is Feb 28, or Feb 29 in a leap year), the time of day kept. `times` multiplies the months
 * before stepping, so period 2 of `1month` from Mar 31 starts on Jan 31, not Jan 28.
 */
export function instantBefore(asOf: number, duration: WindowDuration, times = 1): number {
  if (!isMonths(duration)) return asOf - times * duration.ms;
  const t = new Date(asOf);
  const monthIndex = t.getUTCFullYear() * 12 + t.getUTCMonth() - times * duration.months;
  const year = Math.floor(monthIndex / 12);
  const month = monthIndex - year * 12;
  // Day 0 of the next month is the last day of this one.
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(t.getUTCDate(), lastDay);
  const timeOfDay = asOf - Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate());
  const start = new Date(Date.UTC(2000, 0, 1) + timeOfDay);
  start.setUTCFullYear(year, month, day);
  return start.getTime();
}

/**
 * The instant one duration after `asOf`, the mirror of {@link instantBefore}: calendar months step
 * forward with the day clamped (Jan 31 plus 1month is Feb 29 in a leap year, Feb 28 otherwise).
 */
export const instantAfter = (asOf: number, duration: WindowDuration): number => instantBefore(asOf, duration, -1);

/**
 * The shortest and longest the duration can be, whatever the instant (n months: 28n to 31n
 * days), so two durations of different kinds can be compared before any as-of is known.
 */
export function lengthBounds(duration: WindowDuration): { readonly min: number; readonly max: number } {
  if (!isMonths(duration)) return { min: duration.ms, max: duration.ms };
  return { min: duration.months * 28 * DAY_MS, max: duration.months * 31 * DAY_MS };
}

/** Whether `longer` is longer than `shorter` from every instant. */
export function alwaysLonger(longer: WindowDuration, shorter: WindowDuration): boolean {
  if (isMonths(longer) && isMonths(shorter)) return longer.months > shorter.months;
  return lengthBounds(longer).min > lengthBounds(shorter).max;
}
