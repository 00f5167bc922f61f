import { describe, expect, it } from 'vitest';
import { withRefusedRecords } from '../../shared/checks/refused-check.ts';
import type { SourceCheckReport } from '../../shared/checks/source-checks.ts';

const AS_OF = new Date('2024-06-15T12:00:00.000Z');

/** A report whose checks all passed. */
const passing: SourceCheckReport = {
  as_of: AS_OF.toISOString(),
  days: { from: '2024-05-17', last_day: '2024-06-14' },
  sources: [],
  lake: [],
  status: 'pass',
};

describe('the lake.refused check', () => {
  it('warns with the files of refused records that arrived from the first history day through the as-of day', () => {
    // Prepare: files before the window, in it (its first day, the as-of day) and after the as-of day
    const refused = { location: 's3://lake/events-errors/', days: ['2024-05-16', '2024-05-17', '2024-06-01', '2024-06-15', '2024-06-16'] };
    // Act
    const report = withRefusedRecords(passing, refused, AS_OF);
    // Assess
    expect(report.status).toBe('warn');
    expect(report.lake).toEqual([
      {
        name: 'lake.refused',
        status: 'warn',
        observed: 3,
        threshold: 0,
        message:
          'lake: 3 files of refused records arrived from 2024-05-17 through 2024-06-15 under s3://lake/events-errors/ (events the ingestion could not place in events/dt=YYYY-MM-DD/: not read)',
      },
    ]);
  });

  it('adds nothing when no refused file arrived in the window, or there is none', () => {
    expect(withRefusedRecords(passing, { location: 'lake/events-errors/', days: ['2024-05-16', '2024-06-16'] }, AS_OF)).toBe(passing);
    expect(withRefusedRecords(passing, undefined, AS_OF)).toBe(passing);
  });
});
