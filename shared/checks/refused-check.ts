import type { RefusedFiles } from '../ports.ts';
import type { CheckResult } from '../store/manifest.ts';
import { counted, worstStatus } from './source-format.ts';
import type { SourceCheckReport } from './source-checks.ts';
import { dayOf, dayText, sourceCheckWindow } from './source-window.ts';

/**
 * Adds the lake-wide `lake.refused` check: a warning counting the files of records the ingestion
 * could not place in `events/` (Firehose's error output, `cohorts ingest`'s refused lines) that
 * arrived on the days the source checks look at (the first history day through the as-of's day),
 * so a replay for a past as-of counts the same files. Nothing is added when there are none.
 */
export function withRefusedRecords(report: SourceCheckReport, refused: RefusedFiles | undefined, asOf: Date): SourceCheckReport {
  if (refused === undefined) return report;
  const window = sourceCheckWindow(asOf);
  const from = dayText(window.firstDay);
  const to = dayText(dayOf(window.endMs));
  const files = refused.days.filter((day) => day >= from && day <= to).length;
  if (files === 0) return report;
  const check: CheckResult = {
    name: 'lake.refused',
    status: 'warn',
    observed: files,
    threshold: 0,
    message: `lake: ${counted(files, 'file')} of refused records arrived from ${from} through ${to} under ${refused.location} (events the ingestion could not place in events/dt=YYYY-MM-DD/: not read)`,
  };
  return { ...report, lake: [...report.lake, check], status: worstStatus([report.status, check.status]) };
}
