import { describe, expect, it } from 'vitest';
import {
  alwaysLonger,
  instantAfter,
  instantBefore,
  parseWindowDuration,
  type WindowDuration,
} from '../../shared/language/window-duration.ts';

const months = (text: string): WindowDuration => {
  const parsed = parseWindowDuration(text);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed;
};
const stepForward = (asOf: string, text: string) => new Date(instantAfter(Date.parse(asOf), months(text))).toISOString();
const stepBack = (asOf: string, text: string, times = 1) => new Date(instantBefore(Date.parse(asOf), months(text), times)).toISOString();

describe('calendar months counted back from the as-of instant (issue 16)', () => {
  it('clamps the day to the last day of the month reached, leap years included, the time of day kept', () => {
    expect(stepBack('2024-03-31T10:30:00.000Z', '1month')).toBe('2024-02-29T10:30:00.000Z');
    expect(stepBack('2023-03-31T10:30:00.000Z', '1month')).toBe('2023-02-28T10:30:00.000Z');
    expect(stepBack('2024-05-31T00:00:00.000Z', '1month')).toBe('2024-04-30T00:00:00.000Z');
    expect(stepBack('2024-03-30T23:59:59.999Z', '1month')).toBe('2024-02-29T23:59:59.999Z');
  });

  it('crosses year boundaries and reads 1y as 12months', () => {
    expect(stepBack('2025-01-15T05:00:00.000Z', '1month')).toBe('2024-12-15T05:00:00.000Z');
    expect(stepBack('2025-01-15T05:00:00.000Z', '25months')).toBe('2022-12-15T05:00:00.000Z');
    expect(stepBack('2024-02-29T00:00:00.000Z', '1y')).toBe('2023-02-28T00:00:00.000Z');
    expect(stepBack('2024-02-29T00:00:00.000Z', '12months')).toBe(stepBack('2024-02-29T00:00:00.000Z', '1y'));
    expect(stepBack('2028-02-29T00:00:00.000Z', '4y')).toBe('2024-02-29T00:00:00.000Z');
  });

  it('steps `times` periods back from T itself, so a clamped day does not drift', () => {
    // Period 2 of 1month from Mar 31 starts Jan 31, not Jan 28 (Feb 28 minus a month).
    expect(stepBack('2025-03-31T00:00:00.000Z', '1month', 2)).toBe('2025-01-31T00:00:00.000Z');
    expect(stepBack('2025-03-31T00:00:00.000Z', '1month', 0)).toBe('2025-03-31T00:00:00.000Z');
    expect(stepBack('2025-03-31T00:00:00.000Z', '7d', 3)).toBe('2025-03-10T00:00:00.000Z');
  });

  it('steps forward (within_next) with the same clamping: Jan 31 plus 1month is Feb 29 in a leap year', () => {
    expect(stepForward('2024-01-31T08:00:00.000Z', '1month')).toBe('2024-02-29T08:00:00.000Z');
    expect(stepForward('2023-01-31T08:00:00.000Z', '1month')).toBe('2023-02-28T08:00:00.000Z');
    expect(stepForward('2024-03-31T00:00:00.000Z', '1month')).toBe('2024-04-30T00:00:00.000Z');
    expect(stepForward('2024-02-29T00:00:00.000Z', '1y')).toBe('2025-02-28T00:00:00.000Z');
    expect(stepForward('2024-11-30T00:00:00.000Z', '3months')).toBe('2025-02-28T00:00:00.000Z');
    expect(stepForward('2024-03-31T00:00:00.000Z', '7d')).toBe('2024-04-07T00:00:00.000Z');
  });

  it('keeps the text as written, fixed units included', () => {
    expect(parseWindowDuration('3months')).toEqual({ text: '3months', months: 3 });
    expect(parseWindowDuration('1y')).toEqual({ text: '1y', months: 12 });
    expect(parseWindowDuration('1month')).toEqual({ text: '1month', months: 1 });
    expect(parseWindowDuration('30d')).toEqual({ text: '30d', ms: 30 * 86_400_000 });
  });

  it('refuses zero, more than 100 years and unknown units with a message', () => {
    expect(parseWindowDuration('0months')).toEqual({ error: 'must be a positive duration, got "0months"' });
    expect(parseWindowDuration('1201months')).toEqual({ error: expect.stringContaining('must be at most 100 years') });
    expect(parseWindowDuration('101y')).toEqual({ error: expect.stringContaining('must be at most 100 years') });
    expect(parseWindowDuration('36526d')).toEqual({ error: expect.stringContaining('must be at most 100 years') });
    expect(parseWindowDuration('3m')).toEqual({
      error: expect.stringContaining('units h, d, w, month or months for calendar months, y for 12 months'),
    });
    expect(parseWindowDuration('3mo')).toEqual({
      error: 'must be a duration such as 30d or 3months: mo is not a unit (SPEC section 2), got "3mo"',
    });
    expect(parseWindowDuration('1.5months')).toEqual({ error: expect.stringContaining('must be a duration such as') });
  });

  it('compares durations of different kinds only when the order holds at every as-of', () => {
    expect(alwaysLonger(months('2months'), months('1month'))).toBe(true);
    expect(alwaysLonger(months('1month'), months('1month'))).toBe(false);
    expect(alwaysLonger(months('3months'), months('30d'))).toBe(true);
    // 1month is 28 to 31 days: neither is longer than 30d from every instant.
    expect(alwaysLonger(months('1month'), months('30d'))).toBe(false);
    expect(alwaysLonger(months('30d'), months('1month'))).toBe(false);
    expect(alwaysLonger(months('32d'), months('1month'))).toBe(true);
  });
});
