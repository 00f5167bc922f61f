import type { CohortEvent } from './events.ts';
import type { ExportLocations } from './exports.ts';

/** Who entered and exited one published version, as exported (screened), and where the files are. */
export interface MemberMoves {
  readonly cohort: string;
  readonly version: number;
  readonly asOf: string;
  readonly runId: string;
  readonly entered: readonly string[];
  readonly exited: readonly string[];
  readonly exports: ExportLocations;
}

/**
 * The per-member events of a published version: one `Cohort Entered` per person who entered and
 * one `Cohort Exited` per person who exited, in the exports' order (entered first). When more
 * people moved than the run has left of its `max` member events (`left`, see run-budget.ts; the
 * whole `max` by default), one `Cohort Members Changed` naming the entered and exited files
 * instead, so a large first version or a redefinition does not flood the bus. No one moved: none.
 */
export function memberEvents(moves: MemberMoves, max: number, left = max): CohortEvent[] {
  const moved = moves.entered.length + moves.exited.length;
  if (moved === 0) return [];
  if (moved > left) {
    const { folder, entered_csv, exited_csv, entered_parquet, exited_parquet } = moves.exports;
    return [
      {
        detailType: 'Cohort Members Changed',
        detail: {
          cohort: moves.cohort,
          version: moves.version,
          as_of: moves.asOf,
          run_id: moves.runId,
          entered: moves.entered.length,
          exited: moves.exited.length,
          member_events_max: max,
          locations: { folder, entered_csv, exited_csv, entered_parquet, exited_parquet },
        },
      },
    ];
  }
  const one = (person_id: string) => ({
    cohort: moves.cohort,
    version: moves.version,
    person_id,
    as_of: moves.asOf,
    run_id: moves.runId,
  });
  return [
    ...moves.entered.map((id): CohortEvent => ({ detailType: 'Cohort Entered', detail: one(id) })),
    ...moves.exited.map((id): CohortEvent => ({ detailType: 'Cohort Exited', detail: one(id) })),
  ];
}
