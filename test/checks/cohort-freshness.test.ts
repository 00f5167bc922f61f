import { describe, expect, it } from 'vitest';
import { cohortFreshness, newestEventBySource, stalenessCheck } from '../../shared/checks/cohort-freshness.ts';
import type { SourceCheckRow } from '../../shared/checks/source-rows.ts';

const asOf = new Date('2024-06-01T00:00:00.000Z');
const hoursBefore = (h: number) => asOf.getTime() - h * 3_600_000;

const row = (grain: SourceCheckRow['grain'], source: string | null, latest_ms: number | null): SourceCheckRow => ({
  grain,
  source,
  event_day: null,
  row_count: 1,
  valid_rows: 1,
  events: 1,
  invalid_rows: 0,
  missing_event_id: 0,
  missing_source: 0,
  missing_user_id: 0,
  missing_event_name: 0,
  missing_ts: 0,
  dt_mismatch: 0,
  unmapped_events: 0,
  latest_ms,
  identity_keys: 0,
  identity_conflicts: 0,
});

const newest = newestEventBySource([
  row('source', 'product', hoursBefore(2)),
  row('source', 'billing', hoursBefore(30)),
  row('source', 'crm', null),
  row('day', 'product', hoursBefore(1)),
  row('lake', null, hoursBefore(1)),
]);

describe('the freshness of a cohort', () => {
  it('is as-of minus the newest event of the sources it reads, or of every source', () => {
    expect(cohortFreshness(newest, ['billing'], asOf, 26)).toEqual({
      newest_event: '2024-05-30T18:00:00.000Z',
      staleness_seconds: 30 * 3600,
      bound_seconds: 26 * 3600,
    });
    expect(cohortFreshness(newest, null, asOf, 0.25)).toMatchObject({ staleness_seconds: 2 * 3600, bound_seconds: 900 });
    expect(cohortFreshness(newest, ['billing', 'crm', 'product'], asOf, 26)).toMatchObject({ staleness_seconds: 2 * 3600 });
  });

  it('is unknown when its sources had no valid event in the days read, and then warns', () => {
    const none = cohortFreshness(newest, ['crm', 'web'], asOf, 26);
    expect(none).toEqual({ newest_event: null, staleness_seconds: null, bound_seconds: 26 * 3600 });
    expect(stalenessCheck(none, 'daily')).toMatchObject({ name: 'staleness', status: 'warn', observed: null, threshold: 26 });
  });

  it('warns past the bound, never fails, and passes at it', () => {
    expect(stalenessCheck(cohortFreshness(newest, ['billing'], asOf, 26), 'daily')).toMatchObject({ status: 'warn', observed: 30 });
    expect(stalenessCheck(cohortFreshness(newest, ['billing'], asOf, 30), 'daily')).toMatchObject({ status: 'pass', observed: 30 });
  });
});
