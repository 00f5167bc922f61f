import { compileRefresh } from '../compiler/compile-refresh.ts';
import { identifier } from '../compiler/sql-text.ts';
import type { CohortDefinition, Condition } from '../language/ast.ts';
import { selectForRun } from '../language/catalog.ts';
import { mapLeaves } from '../language/condition-leaves.ts';
import { references } from '../language/graph.ts';
import type { QueryEngine } from '../ports.ts';

/** What a change does to one cohort's members on the current data. */
export interface MemberImpact {
  /** Members under the working definitions. */
  readonly after: number;
  /** Members under the published definitions; null for a cohort that has none. */
  readonly before: number | null;
  /** People the change adds (members after, not before). */
  readonly added: number;
  /** People the change removes (members before, not after). */
  readonly removed: number;
}

/** Ids of the published variants: a leading `_` no real cohort id can have. */
const variantId = (id: string) => `_published_${id}`;

function renamed(condition: Condition, ids: ReadonlySet<string>): Condition {
  return mapLeaves(condition, (leaf) => (leaf.kind === 'cohort' && ids.has(leaf.id) ? { ...leaf, id: variantId(leaf.id) } : leaf));
}

/**
 * Members each measured cohort would have under the working definitions, and what that adds and
 * removes against the published definitions, all at one as-of, in ONE query: the working cohorts
 * and, for every cohort whose published form differs (changed, or reading a changed cohort), its
 * published variant are compiled together by the refresh compiler, and the query is read back as
 * one row of counts. Nothing is kept or written.
 *
 * @param measure working cohorts to count (live ones; deprecated cohorts are never evaluated)
 * @param published published definitions by id, for the cohorts whose published form differs
 *   (changed ones, their dependants, and removed ones a published variant may still read)
 */
export async function measureImpact(
  input: {
    readonly working: readonly CohortDefinition[];
    readonly measure: readonly string[];
    readonly published: ReadonlyMap<string, CohortDefinition>;
    readonly asOf: Date;
  },
  engine: QueryEngine,
): Promise<Map<string, MemberImpact>> {
  const measured = [...new Set(input.measure)];
  if (measured.length === 0) return new Map();
  const varied = new Set(input.published.keys());
  // The published variants the measured cohorts need, and the (unchanged) working cohorts those read.
  const needed = new Set<string>();
  const reads = new Set(measured);
  const need = (id: string): void => {
    if (needed.has(id)) return;
    needed.add(id);
    for (const ref of references((input.published.get(id) as CohortDefinition).rule)) {
      if (varied.has(ref.id)) need(ref.id);
      else reads.add(ref.id);
    }
  };
  for (const id of measured) if (varied.has(id)) need(id);
  const cohorts = selectForRun(input.working, { ids: [...reads] });
  const variants = [...needed].map((id) => {
    const published = input.published.get(id) as CohortDefinition;
    return { ...published, id: variantId(id), rule: renamed(published.rule, varied) };
  });
  const lake = await engine.lake();
  const compiled = compileRefresh({ cohorts: [...cohorts, ...variants], asOf: input.asOf, lake: lake.relations, dialect: engine.dialect });
  const column = (id: string) => `coalesce(${identifier(compiled.columns.get(id) as string)}, FALSE)`;
  const selects = measured.flatMap((id, i) => {
    const after = column(id);
    if (!varied.has(id)) return [`count_if(${after}) AS ${identifier(`after_${i}`)}`];
    const before = column(variantId(id));
    return [
      `count_if(${after}) AS ${identifier(`after_${i}`)}`,
      `count_if(${before}) AS ${identifier(`before_${i}`)}`,
      `count_if(${after} AND NOT ${before}) AS ${identifier(`added_${i}`)}`,
      `count_if(${before} AND NOT ${after}) AS ${identifier(`removed_${i}`)}`,
    ];
  });
  const [row = {}] = await engine.rows(`SELECT ${selects.join(',\n  ')}\nFROM (\n${compiled.sql}\n) AS impact`);
  const count = (key: string) => Number(row[key] ?? 0);
  return new Map(
    measured.map((id, i) => {
      const after = count(`after_${i}`);
      const impact: MemberImpact = varied.has(id)
        ? { after, before: count(`before_${i}`), added: count(`added_${i}`), removed: count(`removed_${i}`) }
        : { after, before: null, added: after, removed: 0 };
      return [id, impact];
    }),
  );
}
