import { describe, expect, it } from 'vitest';
import { readSourceCheckRows, SOURCE_CHECK_COLUMNS } from '../../shared/checks/source-rows.ts';
import { median } from '../../shared/checks/robust-z.ts';
import { poissonZ, robustScore } from '../../shared/checks/source-volume.ts';

describe('the robust z-score of the last day', () => {
  it('divides the distance from the median by 1.4826 times the MAD', () => {
    const history = [900, 1000, 1100, 1000, 950, 1050, 1000, 1000];
    const score = robustScore(700, history);
    expect(score).toMatchObject({ historyDays: 8, median: 1000, mad: 25 });
    expect(score?.madZ).toBeCloseTo(-300 / (1.4826 * 25), 10);
    expect(score?.z).toBe(score?.madZ);
  });

  it('never divides by less than one event, so a perfectly steady history still judges', () => {
    const steady = Array.from({ length: 28 }, () => 100);
    expect(robustScore(100, steady)?.z).toBe(0);
    expect(robustScore(0, steady)).toMatchObject({ mad: 0, scale: 1, madZ: -100 });
  });

  it('is never further from 0 than Poisson noise would put the day', () => {
    // The sample lake's Sundays before 2026-12-06: a MAD of 3 events, where some 640 events wobble by about 25.
    const sundays = robustScore(594, [641, 636, 642, 634]);
    expect(sundays).toMatchObject({ median: 638.5, mad: 3 });
    expect(sundays?.madZ).toBeCloseTo(-44.5 / (1.4826 * 3), 10);
    expect(sundays?.poissonZ).toBeCloseTo(2 * (Math.sqrt(594.375) - Math.sqrt(638.875)), 10);
    expect(sundays?.z).toBeCloseTo(-1.79, 2);
    // Steadier than Poisson in either direction: the Poisson distance, with its sign.
    expect(
      robustScore(
        12,
        Array.from({ length: 28 }, () => 10),
      )?.z,
    ).toBeCloseTo(0.594, 3);
    // An outage stays far out in Poisson noise too.
    expect(
      robustScore(
        0,
        Array.from({ length: 28 }, () => 100),
      )?.z,
    ).toBeCloseTo(-18.81, 2);
  });

  it('measures Poisson noise on a scale where a small count is as spread as a large one', () => {
    expect(poissonZ(100, 100)).toBe(0);
    // (0 - 10) / sqrt(10) would be -3.16: too mild for a day that Poisson noise gives once in 22,000.
    expect(poissonZ(0, 10)).toBeCloseTo(-5.22, 2);
    expect(poissonZ(1100, 1000)).toBeCloseTo(3.09, 2);
  });

  it('starts the history at the first day with events, and keeps later empty days', () => {
    expect(robustScore(5, [0, 0, 0, 4, 0, 6, 5])).toMatchObject({ historyDays: 4, median: 4.5 });
    expect(robustScore(5, [0, 0, 0])).toBeUndefined();
  });

  it('takes the middle value, or the mean of the two middle values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe('reading the query result', () => {
  it('accepts numbers as Athena returns them (text) and as DuckDB does (bigint)', () => {
    const athena = Object.fromEntries(SOURCE_CHECK_COLUMNS.map((column) => [column, '3']));
    const [fromText] = readSourceCheckRows([{ ...athena, grain: 'source', source: 'crm', event_day: null, latest_ms: '1718359200000' }]);
    expect(fromText).toMatchObject({ grain: 'source', source: 'crm', event_day: null, row_count: 3, latest_ms: 1718359200000 });
    const [fromBigint] = readSourceCheckRows([{ grain: 'day', source: 'crm', event_day: 19888n, events: 7n, identity_keys: null }]);
    expect(fromBigint).toMatchObject({ event_day: 19888, events: 7, identity_keys: 0, latest_ms: null });
  });

  it('refuses a row it does not understand rather than guess', () => {
    expect(() => readSourceCheckRows([{ grain: 'week', source: 'crm' }])).toThrow(/unexpected grain week/);
    expect(() => readSourceCheckRows([{ grain: 'day', source: 'crm', events: 'many' }])).toThrow(/events is not a number/);
  });
});
