import type { CompileRequest } from '../compiler/compile-refresh.ts';
import { doubleLiteral, integerLiteral, stringLiteral } from '../compiler/sql-text.ts';
import { leaves } from '../language/condition-leaves.ts';
import { leafUses, type MeasureUse, scanStart } from './measures.ts';
import { partsCtes } from './tiled-parts.ts';
import { planTiled, rawUseKey } from './tiled-plan.ts';
import { EXACT_LIMIT, requestUses, type TiledCompileRequest } from './tiled-refresh.ts';
import { identityMapSql } from './tiled-selects.ts';

/** A sum use read only through bounds (an event leaf's `sum`), with every bound value its leaves compare it with. */
interface BoundedUse {
  readonly use: MeasureUse;
  readonly bounds: readonly number[];
}

/**
 * The sum uses of a refresh whose value only meets bounds (event leaves' `sum: {gte, ...}`), and the
 * sum uses of any other leaf (none today): their bits would be visible, so they keep the
 * exact-or-raw rule. The KPI metrics' value is neither: it only feeds the `kpis` totals, a sum over
 * the members in the engine's own order that versionKpis rounds to 4 decimals, so it reads tiles
 * whether its parts are integral or not (another order of the same doubles, as a full run's own).
 */
export function sumReaders(request: CompileRequest): { bounded: BoundedUse[]; visible: MeasureUse[] } {
  const asOf = request.asOf.getTime();
  const bounded: BoundedUse[] = [];
  const visible: MeasureUse[] = [];
  for (const leaf of request.cohorts.flatMap((c) => leaves(c.rule))) {
    const uses = leafUses(leaf, asOf);
    if (leaf.kind === 'event' && leaf.measure.kind === 'sum') {
      const bounds = Object.values(leaf.measure.bounds).filter((b): b is number => typeof b === 'number');
      bounded.push({ use: uses[0] as MeasureUse, bounds });
    } else {
      visible.push(...uses.filter((use) => use.measure.aggregate.kind === 'sum'));
    }
  }
  return { bounded, visible };
}

/** Rounding unit of a double: 2^-53. */
const U = 2 ** -53;
/** Below this absolute total a margin could underflow; above the other, a sum in some order could overflow. */
const SMALLEST_TOTAL = doubleLiteral(2 ** -900);
const LARGEST_TOTAL = doubleLiteral(2 ** 1000);
/** The margin per value and unit of absolute total: 8u, four times the 2u of the bound below (so the rounding of the margin itself never matters). */
const MARGIN_FACTOR = doubleLiteral(8 * U);

/**
 * The measures among `candidates` (sums the tiles cannot give bit for bit, read through bounds only)
 * for which some person's side of some bound cannot be decided from tiles (one column `measure`,
 * sorted): those must read raw.
 *
 * Why a decided side is the full computation's: per person and use, the tiled parts are the same
 * N doubles x_i the full computation adds (read by the same SQL on both paths), only grouped
 * differently. Any order of adding them (any tree) gives S with |S - E| <= gamma_{N-1} * sum|x_i|
 * (E the exact real sum, gamma_k = k*u/(1-k*u), u = 2^-53; addition is exact when the result is
 * subnormal, so underflow adds nothing). The parts give t (one order) and a, the sum of |x_i| in
 * one order, with a >= (1 - gamma_{N-1}) * sum|x_i|. So any two orders (the full query's, the
 * tiled query's, this one's) differ by at most 2*gamma_{N-1}/(1 - gamma_{N-1}) * a, which is below
 * m = 8u * N * a (for N*u < 0.01, far beyond any lake). With a finite and below 2^1000 (no value
 * is NaN or infinite, no order overflows; above 2^-900 so m is a normal double), fl(t - m) > b
 * implies t - m > b (rounding is monotone and the bound literal b is a double), hence every order's
 * sum is > b; likewise fl(t + m) < b. A person is also decided when its values are all integers
 * with a < 2^53 (every order is exact) or N <= 1 (one value, no rounding). A person decided for
 * every bound of every use compares the same way in both queries for gte, gt, lt, lte and eq.
 */
export function undecidedSumsSql(request: TiledCompileRequest, candidates: readonly string[]): string {
  const none = 'SELECT CAST(NULL AS VARCHAR) AS measure WHERE FALSE';
  const wanted = new Set(candidates);
  const { bounded } = sumReaders(request);
  const mine = bounded.filter((b) => wanted.has(b.use.measure.id));
  if (mine.length === 0) return none;
  const asOf = request.asOf.getTime();
  // The de-duplication must choose among the copies the full computation chooses among: its scan start.
  const { plan, useOf } = planTiled(
    mine.map((b) => b.use),
    asOf,
    new Set(),
    false,
    scanStart(requestUses(request)),
  );
  const boundsOf = new Map<number, Set<number>>();
  for (const b of mine) {
    const no = useOf(b.use).no;
    const set = boundsOf.get(no) ?? new Set<number>();
    for (const bound of b.bounds) set.add(bound);
    boundsOf.set(no, set);
  }
  const sides = [...boundsOf].map(([no, bounds]) => {
    const each = [...bounds].map((b) => `((u.t - u.m) > ${doubleLiteral(b)} OR (u.t + u.m) < ${doubleLiteral(b)})`);
    return `WHEN ${integerLiteral(no)} THEN ${each.length === 0 ? 'TRUE' : each.join(' AND ')}`;
  });
  const d = request.dialect;
  const src = { dialect: d, events: request.lake.events, ...request.tiles };
  const person = 'coalesce(m.person_id, x.user_key)';
  const ctes = [
    `identity_map AS (\n${identityMapSql(d, request.lake.identities)}\n)`,
    ...partsCtes(src, plan, { presence: false, exactness: true, scanPerMeasure: true }),
    // No measure per row here (a min of strings per person and use): each use's measure is joined to the few undecided rows.
    `per_use AS (\n  SELECT x.use_no, ${person} AS person_id, sum(x.total) AS t, sum(x.abs_total) AS a,\n` +
      `    sum(x.n) AS n, coalesce(bool_and(x.integral), FALSE) AS integral\n  FROM parts AS x\n` +
      `  LEFT JOIN identity_map AS m ON m.source = x.source AND m.user_key = x.user_key\n  GROUP BY x.use_no, ${person}\n)`,
    `margins AS (\n  SELECT *, a * ${MARGIN_FACTOR} * n AS m FROM per_use\n)`,
  ];
  const decided = [
    `(u.integral AND u.a < ${EXACT_LIMIT})`,
    'u.n <= 1',
    `(u.a >= ${SMALLEST_TOTAL} AND u.a < ${LARGEST_TOTAL} AND CASE u.use_no ${sides.join(' ')} ELSE FALSE END)`,
  ].join(' OR ');
  const measureOf = plan.uses.map((use) => `(${integerLiteral(use.no)}, ${stringLiteral(use.measure.id)})`).join(', ');
  return (
    `WITH ${ctes.join(',\n')}\nSELECT uses.measure FROM margins AS u\n` +
    `JOIN (VALUES ${measureOf}) AS uses (use_no, measure) ON uses.use_no = u.use_no\n` +
    `WHERE NOT (${decided})\nGROUP BY uses.measure\nORDER BY uses.measure`
  );
}

/**
 * What reads raw, of the `inexact` sums (whose tiles do not give the full computation's bits): the
 * measures with a person the bounds leave undecided (`rows` runs {@link undecidedSumsSql}), over
 * every window, and the uses whose value would be visible (a leaf's sum not read through bounds:
 * none today), over their own window only (`rawUseKey`s); their bounded uses over other windows are
 * still read from tiles: their members are exact. The KPI value is never read raw for being inexact
 * (see {@link sumReaders}).
 */
export async function rawSums(
  request: TiledCompileRequest,
  inexact: readonly string[],
  rows: (sql: string) => Promise<readonly Record<string, unknown>[]>,
): Promise<{ measures: string[]; uses: string[] }> {
  const { bounded, visible } = sumReaders(request);
  const asked = inexact.some((m) => bounded.some((b) => b.use.measure.id === m));
  const measures = asked ? (await rows(undecidedSumsSql(request, inexact))).map((r) => String(r.measure)).sort() : [];
  const uses = visible.filter((u) => inexact.includes(u.measure.id) && !measures.includes(u.measure.id)).map(rawUseKey);
  return { measures, uses: [...new Set(uses)].sort() };
}
