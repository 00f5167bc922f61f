import { describe, expect, it } from 'vitest';
import { DAY_MS, splitWindow } from '../../shared/tiles/day-split.ts';

const at = (iso: string) => Date.parse(iso);

describe('splitWindow', () => {
  it('takes the whole days inside a window from tiles and its partial edge days from raw events', () => {
    expect(splitWindow({ from: at('2024-03-01T06:00:00Z'), to: at('2024-03-05T12:00:00Z') })).toEqual({
      wholeDays: { from: at('2024-03-02T00:00:00Z'), to: at('2024-03-05T00:00:00Z') },
      segments: [
        { from: at('2024-03-01T06:00:00Z'), to: at('2024-03-02T00:00:00Z') },
        { from: at('2024-03-05T00:00:00Z'), to: at('2024-03-05T12:00:00Z') },
      ],
    });
  });

  it('needs no raw events when the window starts and ends at midnight', () => {
    expect(splitWindow({ from: at('2024-03-01T00:00:00Z'), to: at('2024-03-02T00:00:00Z') })).toEqual({
      wholeDays: { from: at('2024-03-01T00:00:00Z'), to: at('2024-03-02T00:00:00Z') },
      segments: [],
    });
  });

  it('reads an hour window from raw events, cut at midnight when it straddles one', () => {
    expect(splitWindow({ from: at('2024-03-01T20:00:00Z'), to: at('2024-03-02T02:00:00Z') })).toEqual({
      segments: [
        { from: at('2024-03-01T20:00:00Z'), to: at('2024-03-02T00:00:00Z') },
        { from: at('2024-03-02T00:00:00Z'), to: at('2024-03-02T02:00:00Z') },
      ],
    });
    expect(splitWindow({ from: at('2024-03-01T00:00:00Z'), to: at('2024-03-01T05:00:00Z') })).toEqual({
      segments: [{ from: at('2024-03-01T00:00:00Z'), to: at('2024-03-01T05:00:00Z') }],
    });
  });

  it('takes every day before the as-of day from tiles for all history', () => {
    const to = at('2024-03-05T12:00:00Z');
    expect(splitWindow({ to })).toEqual({ wholeDays: { to: to - 12 * 3_600_000 }, segments: [{ from: to - 12 * 3_600_000, to }] });
    expect(splitWindow({ to: 3 * DAY_MS })).toEqual({ wholeDays: { to: 3 * DAY_MS }, segments: [] });
  });
});
