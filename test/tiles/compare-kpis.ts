import { expect } from 'vitest';
import type { MetricColumns } from '../../shared/compiler/compile-refresh.ts';
import type { MetricSettings } from '../../shared/config/schema.ts';
import { versionKpis } from '../../shared/engine/snapshot-cohort.ts';

type Row = Record<string, unknown>;

/**
 * A person's value (`m_value`) with its bits hidden: read from tiles it is another order of the same
 * doubles than the full computation's (itself in an order the engine picks), so only its presence
 * (null or a number) is compared row by row; {@link expectSameValues} and {@link expectSameKpis}
 * compare the numbers.
 */
export const valueShape = (value: unknown) => (typeof value === 'number' ? 'number' : value);

/** Relative distance within which two orders of adding the same few doubles are taken as one sum (test lakes: no large cancellation). */
const CLOSE = 1e-9;

/** Every person's value over tiles is the full computation's, but for the order of adding (rows keyed by person_id). */
export function expectSameValues(got: readonly Row[], want: readonly Row[], column: string): void {
  const wanted = new Map(want.map((row) => [String(row.person_id), row[column]]));
  const far = got.flatMap((row) => {
    const [a, b] = [row[column], wanted.get(String(row.person_id))];
    if (typeof a !== 'number' || typeof b !== 'number') return a === b ? [] : [{ person: row.person_id, got: a, want: b }];
    return Math.abs(a - b) <= CLOSE * Math.max(1, Math.abs(a), Math.abs(b)) ? [] : [{ person: row.person_id, got: a, want: b }];
  });
  expect(far).toEqual([]);
}

/** The KPIs of every cohort as a version writes them (versionKpis: sums rounded to 4 decimals, shares to 6). */
function kpisOf(rows: readonly Row[], cohorts: readonly string[], columns: MetricColumns, settings: MetricSettings) {
  return cohorts.map((column) => {
    const members = rows.filter((row) => row[column] === true);
    const values = members.map((row) => row[columns.value]).filter((v): v is number => typeof v === 'number');
    const totals = {
      size: members.length,
      activated: members.filter((row) => row[columns.activated] === true).length,
      value_sum: values.reduce((sum, v) => sum + v, 0),
    };
    return { column, ...versionKpis(totals, 0, 0, { activation: settings.activation, value: settings.value }) };
  });
}

/** Every cohort's KPIs from the tiled rows equal the full computation's once rounded as a version writes them. */
export function expectSameKpis(
  got: readonly Row[],
  want: readonly Row[],
  cohorts: readonly string[],
  columns: MetricColumns,
  settings: MetricSettings,
): void {
  expect(kpisOf(got, cohorts, columns, settings)).toEqual(kpisOf(want, cohorts, columns, settings));
}
