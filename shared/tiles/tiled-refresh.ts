import type { CompiledRefresh, CompileRequest, MetricColumns } from '../compiler/compile-refresh.ts';
import { partitionDate } from '../compiler/partition-date.ts';
import { doubleLiteral, identifier } from '../compiler/sql-text.ts';
import { leaves } from '../language/condition-leaves.ts';
import { DAY_MS, dayOf } from './day-split.ts';
import { leafUses, type MeasureUse, metricUses, readsRaw, scanStart } from './measures.ts';
import { carriedColumns, partsCtes } from './tiled-parts.ts';
import { planTiled, rangePartitions, type TiledPlan } from './tiled-plan.ts';
import { identityMapSql, TiledSelects } from './tiled-selects.ts';
import { requestSequences } from './sequence-uses.ts';
import { propertyNames } from './tile-sql.ts';
import type { TileRelations } from './tile-store.ts';

export type { TileRelations } from './tile-store.ts';

/** A refresh to compile over tiles. */
export interface TiledCompileRequest extends CompileRequest {
  readonly tiles: TileRelations;
  /** Measure ids read from raw events over their whole window (sums tiles cannot hold exactly); those measures.ts `readsRaw` names are added. */
  readonly rawMeasures?: readonly string[];
  /** Uses (tiled-plan.ts `rawUseKey`: a measure over one window) read raw over that window, the measure's other uses from tiles. */
  readonly rawUses?: readonly string[];
  /**
   * The lake's first `dt` partition: only to list `rawPartitions` when a raw measure reads all
   * history (the query does not need it).
   */
  readonly firstPartition?: string;
}

/** The tiled query of a refresh and what it reads. */
export interface TiledRefresh extends CompiledRefresh {
  /** Tile days read, YYYY-MM-DD, `to` exclusive; undefined when none. */
  readonly tileDays?: { readonly from?: string; readonly to: string };
  /** `dt` partitions read raw (window edges, today, raw measures, contested copies excluded), sorted. */
  readonly rawPartitions: readonly string[];
  /** Measure ids read (sorted) and those read raw over their window (a sequence by its own `s...` id). */
  readonly measures: readonly string[];
  readonly rawMeasures: readonly string[];
}

/** The uses of every leaf and metric of a refresh at its as-of instant. */
export function requestUses(request: CompileRequest): MeasureUse[] {
  const asOf = request.asOf.getTime();
  const fromLeaves = request.cohorts.flatMap((c) => leaves(c.rule).flatMap((leaf) => leafUses(leaf, asOf)));
  return [...fromLeaves, ...(request.metrics ? metricUses(request.metrics, asOf) : [])];
}

/** The sum of 2^53: from it on, adding integers is no longer exact in a double. */
export const EXACT_LIMIT = doubleLiteral(2 ** 53);

/**
 * One query per refresh over tiles: the result columns of compileRefresh (`person_id`, one
 * boolean per cohort, the metric columns). Whole days of every window come from tile rows
 * (one read of the tiles), partial days and T's day from raw events of those days (one scan), the
 * contested ids from their copies, and `rawMeasures` from raw events over their whole window;
 * then one GROUP BY person.
 */
export function compileTiledRefresh(request: TiledCompileRequest): TiledRefresh {
  const asOf = request.asOf.getTime();
  const uses = requestUses(request);
  const raw = new Set([
    ...(request.rawMeasures ?? []),
    ...(request.rawUses ?? []),
    ...uses.filter((u) => readsRaw(u.measure)).map((u) => u.measure.id),
  ]);
  const { plan, useOf, sequenceOf } = planTiled(uses, asOf, raw, true, scanStart(uses), requestSequences(request.cohorts, asOf));
  const d = request.dialect;
  const carried = carriedColumns(plan, request.tiles);
  const selects = new TiledSelects(
    d,
    request.cohorts,
    useOf,
    asOf,
    sequenceOf,
    request.tiles.carried === undefined || carried.size === 0 ? undefined : { relation: request.tiles.carried, columns: carried },
  );
  const columns = new Map<string, string>();
  const items: string[] = [];
  for (const cohort of request.cohorts) {
    const column = `c_${cohort.id}`;
    columns.set(cohort.id, column);
    items.push(`${selects.cohort(cohort.id)} AS ${identifier(column)}`);
  }
  let metrics: MetricColumns | undefined;
  if (request.metrics) {
    metrics = { activated: 'm_activated', value: 'm_value' };
    const [activation, value] = metricUses(request.metrics, asOf) as [MeasureUse, MeasureUse];
    items.push(
      `${selects.count(activation)} > 0 AS ${identifier(metrics.activated)}`,
      `${selects.sum(value)} AS ${identifier(metrics.value)}`,
    );
  }
  const src = { dialect: d, events: request.lake.events, ...request.tiles };
  const listed = selects.lists.join(d, request.lake.lists, 'per_person_scored');
  const ctes = [
    `identity_map AS (\n${identityMapSql(d, request.lake.identities)}\n)`,
    ...partsCtes(src, plan, { presence: true, exactness: false }),
    ...selects.perPersonCtes(),
    ...listed.ctes.map((cte) => `${cte.name} AS (\n${cte.lines.map((line) => `  ${line}`).join('\n')}\n)`),
  ];
  const sql = [
    `-- cohort-refresh (tiles): ${request.cohorts.length} cohorts as of ${new Date(asOf).toISOString()}`,
    `WITH ${ctes.join(',\n')}`,
    'SELECT person_id,',
    `  ${items.join(',\n  ')}`,
    `FROM ${listed.from}`,
  ].join('\n');
  const start = plan.scanStart;
  return {
    sql,
    columns,
    ...(metrics ? { metrics } : {}),
    partitions: { ...(start === undefined ? {} : { from: partitionDate(start - DAY_MS) }), to: partitionDate(asOf + DAY_MS) },
    separatePopulationScan: false,
    properties: propertyNames(plan.uses.map((u) => u.measure)),
    ...tileDaysOf(plan),
    rawPartitions: rangePartitions(plan.rawRanges, request.firstPartition),
    // A sequence is named by its own id, not by its steps' measures.
    measures: [...new Set([...plan.uses.filter((u) => !u.step).map((u) => u.measure.id), ...plan.sequences.map((s) => s.id)])].sort(),
    rawMeasures: [
      ...new Set([...plan.uses.filter((u) => u.raw && !u.step).map((u) => u.measure.id), ...plan.sequences.map((s) => s.id)]),
    ].sort(),
  };
}

/** The tile days a plan reads: every use's whole days and the population's days before T's. */
function tileDaysOf(plan: TiledPlan): { tileDays?: { from?: string; to: string } } {
  const ranges = [...plan.uses.flatMap((u) => (u.raw || !u.split.wholeDays ? [] : [u.split.wholeDays])), { to: plan.todayStart }];
  const to = Math.max(...ranges.map((r) => r.to));
  const from = ranges.some((r) => r.from === undefined) ? undefined : Math.min(...ranges.map((r) => r.from as number));
  return { tileDays: { ...(from === undefined ? {} : { from: dayOf(from) }), to: dayOf(to) } };
}

/**
 * A small query over the same tiles and edges: the sum measures (not already raw) whose parts at
 * this as-of are not all integral or whose absolute total over all their parts reaches 2^53 (one
 * column `measure`). Below that, every addition of integers is exact in any order, so tiles plus
 * edges give the very bits a full scan gives; otherwise the measure must be read raw.
 */
export function inexactSumsSql(request: TiledCompileRequest): string {
  const asOf = request.asOf.getTime();
  const all = requestUses(request);
  const raw = new Set(request.rawMeasures ?? []);
  const sums = all.filter((u) => u.measure.aggregate.kind === 'sum' && !raw.has(u.measure.id) && !readsRaw(u.measure));
  if (sums.length === 0) return 'SELECT CAST(NULL AS VARCHAR) AS measure WHERE FALSE';
  // The de-duplication must choose among the copies the full computation chooses among: its scan start.
  const { plan } = planTiled(sums, asOf, new Set(), false, scanStart(all));
  const src = { dialect: request.dialect, events: request.lake.events, ...request.tiles };
  const ctes = partsCtes(src, plan, { presence: false, exactness: true });
  return (
    `WITH ${ctes.join(',\n')}\nSELECT measure FROM parts\nGROUP BY measure\n` +
    `HAVING NOT coalesce(bool_and(integral), TRUE) OR coalesce(sum(abs_total), 0) >= ${EXACT_LIMIT}\nORDER BY measure`
  );
}

/**
 * The UTC days (YYYY-MM-DD, sorted) whose tiles a refresh reads: every day from the day before
 * the lake's first partition (its events may lie there, one day of slack) to the day before T's,
 * since the population reads presence over all history; none without a partition.
 */
export function tileDaysNeeded(request: CompileRequest, firstPartition: string | undefined): string[] {
  if (firstPartition === undefined) return [];
  const end = Math.floor(request.asOf.getTime() / DAY_MS) * DAY_MS;
  const days: string[] = [];
  for (let day = Date.parse(`${firstPartition}T00:00:00Z`) - DAY_MS; day < end; day += DAY_MS) days.push(dayOf(day));
  return days;
}
