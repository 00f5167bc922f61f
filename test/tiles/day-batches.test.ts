import { describe, expect, it } from 'vitest';
import { dayBatches } from '../../shared/tiles/day-batches.ts';

/** Partition sizes: `dt=2024-03-0N` holds 10 * N bytes for N = 1..9, the rest nothing. */
const size = (partition: string) => {
  const n = Number(partition.slice(8));
  return partition.startsWith('2024-03-0') && n >= 1 ? 10 * n : 0;
};

describe('dayBatches', () => {
  it('keeps consecutive days together while the partitions from the day before to the day after stay within the bound', () => {
    // GIVEN days 03-02..03-05 (each reads d-1..d+1) and a bound of 100 bytes
    // THEN 03-02 and 03-03 read 03-01..03-04 (10+20+30+40 = 100); 03-04 alone would read 03-03..03-05 (120)
    expect(dayBatches(['2024-03-03', '2024-03-02', '2024-03-04', '2024-03-05'], size, 100)).toEqual([
      ['2024-03-02', '2024-03-03'],
      ['2024-03-04'],
      ['2024-03-05'],
    ]);
  });

  it('counts the partitions between days that are not consecutive, since a batch query reads its whole range', () => {
    // GIVEN 03-01 and 03-04: together they read 03-01 (the day before is empty) .. 03-05: 10+20+30+40+50 = 150
    expect(dayBatches(['2024-03-01', '2024-03-04'], size, 150)).toEqual([['2024-03-01', '2024-03-04']]);
    expect(dayBatches(['2024-03-01', '2024-03-04'], size, 149)).toEqual([['2024-03-01'], ['2024-03-04']]);
  });

  it('builds a day whose own input passes the bound alone, and every day alone with a bound of one byte', () => {
    expect(dayBatches(['2024-03-08', '2024-03-09'], size, 50)).toEqual([['2024-03-08'], ['2024-03-09']]);
    expect(dayBatches(['2024-03-01', '2024-03-02', '2024-03-02'], size, 1)).toEqual([['2024-03-01'], ['2024-03-02']]);
    expect(dayBatches([], size, 1)).toEqual([]);
  });

  it('puts every day in one batch when the bound covers the lake', () => {
    const days = ['2024-02-28', '2024-03-01', '2024-03-05', '2024-03-10'];
    expect(dayBatches(days, size, 450)).toEqual([days]);
  });
});
