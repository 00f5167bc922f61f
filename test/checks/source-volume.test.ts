import { describe, expect, it } from 'vitest';
import { readSourceCheckRows, SOURCE_CHECK_COLUMNS } from '../../shared/checks/source-rows.ts';
import { median } from '../../shared/checks/robust-z.ts';
import { robustScore } from '../../shared/checks/source-volume.ts';

describe('the robust z-score of the last day', () => {
  it('divides the distance from the median by 1.4826 times the MAD', () => {
    const history = [90, 100, 110, 100, 95, 105, 100, 100];
    const score = robustScore(70, history);
    expect(score).toMatchObject({ historyDays: 8, median: 100, mad: 2.5 });
    expect(score?.z).toBeCloseTo(-30 / (1.4826 * 2.5), 10);
  });

  it('never divides by less than one event, so a perfectly steady history still judges', () => {
    const steady = Array.from({ length: 28 }, () => 10);
    expect(robustScore(10, steady)?.z).toBe(0);
    expect(robustScore(12, steady)).toMatchObject({ mad: 0, scale: 1, z: 2 });
    expect(robustScore(0, steady)?.z).toBe(-10);
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
