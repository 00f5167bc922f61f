import { type SequenceCte, sequenceCtes } from '../compiler/sequence-sql.ts';
import { integerLiteral, stringLiteral } from '../compiler/sql-text.ts';
import type { PlannedUse, TiledPlan } from './tiled-plan.ts';

/**
 * The CTEs of the plan's sequences over the raw rows (`raw_scored`, whose rows of a step are those
 * `stepRows` picks: the first copy of each event, inside the window, in the step's scope), and one
 * select of parts per sequence: a row per person holding it, keyed by the person itself (no
 * source, so the identity map leaves it as it is).
 */
export function sequenceParts(
  plan: Pick<TiledPlan, 'sequences'>,
  stepRows: (use: PlannedUse) => string,
  columns: readonly string[],
  /** The typed NULL of every column (`source` included). */
  nulls: Readonly<Record<string, string>>,
): { ctes: SequenceCte[]; selects: string[] } {
  const ctes: SequenceCte[] = [];
  const selects: string[] = [];
  for (const s of plan.sequences) {
    const name = `sequence_${s.no}`;
    const input = {
      name,
      from: 'raw_scored AS e\nLEFT JOIN identity_map AS m ON m.source = e.source AND m.user_key = e.user_key',
      person: 'coalesce(m.person_id, e.user_key)',
      steps: s.steps.map(stepRows),
    };
    ctes.push(...sequenceCtes(s.maxGapMs === undefined ? input : { ...input, maxGapMs: s.maxGapMs }));
    const items: Record<string, string> = {
      use_no: integerLiteral(s.no),
      measure: stringLiteral(s.id),
      user_key: 'h.person_id',
      n: 'CAST(1 AS BIGINT)',
    };
    selects.push(`SELECT ${columns.map((c) => `${items[c] ?? nulls[c]} AS ${c}`).join(', ')}\nFROM ${name} AS h`);
  }
  return { ctes, selects };
}
