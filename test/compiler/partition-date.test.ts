import { describe, expect, it } from 'vitest';
import { sourceCheckWindow } from '../../shared/checks/source-window.ts';
import { partitionDate } from '../../shared/compiler/partition-date.ts';
import { duckdbDialect } from '../../shared/compiler/duckdb-dialect.ts';
import { catalog, compile } from './support.ts';

describe('the dt partition bounds', () => {
  it('is the date of the instant within year 9999', () => {
    expect(partitionDate(Date.UTC(2026, 4, 20, 23, 59))).toBe('2026-05-20');
  });

  it('stays at 9999-12-31 for an as-of on the last day of year 9999, where the day after sorts below every date', () => {
    // GIVEN an as-of on 9999-12-31 (D13: the bound was "+010000-01-01", so every partition was left out)
    const asOf = new Date('9999-12-31T12:00:00.000Z');
    // THEN both the refresh query and the source checks read up to the last partition
    expect(compile(catalog({ any: 'event: "*"' }), duckdbDialect, undefined, asOf).partitions.to).toBe('9999-12-31');
    expect(sourceCheckWindow(asOf).partitions.to).toBe('9999-12-31');
  });
});
