import type { CompileRequest } from '../compiler/compile-refresh.ts';
import type { LakeView } from '../ports.ts';
import type { BytesScanned } from '../store/manifest.ts';
import { carryUses, sumUses } from '../tiles/carry-uses.ts';
import { catalogMeasures } from '../tiles/measures.ts';
import { tileExpiry } from '../tiles/expiry.ts';
import { rawSums } from '../tiles/sum-bounds.ts';
import { compileTiledRefresh, inexactSumsSql, requestUses, tileDaysNeeded } from '../tiles/tiled-refresh.ts';
import type { TileStore } from '../tiles/tile-store.ts';
import { loadPrivacyLists } from '../privacy/screen.ts';
import type { TilesEvent } from './events.ts';
import { runPrivacy } from './run-config.ts';
import { plannedDefinitions } from './planned-definitions.ts';
import { verifyTiles } from './tiles-verify.ts';
import type { TilesPorts, TilesState, WorkflowPlan } from './types.ts';

/** The plan's `dt` partitions of the events table, as dates. */
const planPartitions = (plan: WorkflowPlan): string[] =>
  plan.inputs.filter((i) => i.table === 'events').flatMap((i) => i.partitions.map((p) => p.replace(/^dt=/, '')));

/** The lake's first `dt` partition (YYYY-MM-DD), undefined for an empty lake. */
function firstPartition(lake: LakeView): string | undefined {
  const all = lake.inputs({ to: '9999-12-31' }).find((i) => i.table === 'events')?.partitions ?? [];
  return all.map((p) => p.replace(/^dt=/, '')).sort()[0];
}

/** The days of `days` inside a tile-day range (`to` exclusive). */
const daysIn = (days: readonly string[], range: { readonly from?: string; readonly to: string } | undefined): string[] =>
  range === undefined ? [] : days.filter((d) => (range.from === undefined || d >= range.from) && d < range.to);

/** The bytes figures the store can give without running a query (locally: file sizes). */
async function estimatedBytes(
  store: TileStore,
  read: { days: string[]; partitions: readonly string[] } | undefined,
  full: string[],
): Promise<Pick<BytesScanned, 'evaluate' | 'full_estimate'>> {
  if (!store.bytesOf) return {};
  const evaluate = read ? await store.bytesOf(read) : undefined;
  const fullEstimate = await store.bytesOf({ days: [], partitions: full });
  return { ...(evaluate === undefined ? {} : { evaluate }), full_estimate: fullEstimate };
}

/** Whether a person id is forgotten (an erasure record names it); undefined when nobody is. */
async function forgottenTest(ports: TilesPorts, plan: WorkflowPlan): Promise<((personId: string) => boolean) | undefined> {
  const privacy = runPrivacy(ports.privacy, plan.config);
  if (!privacy) return undefined;
  const lists = await loadPrivacyLists(privacy);
  return lists.forgotten.size === 0 ? undefined : (personId) => lists.forgottenRecord(personId) !== undefined;
}

/**
 * Tiles, between Plan and Evaluate (issue 14). In `tiles` and `verify` mode: derives the measures
 * of the planned cohorts and the days whose tiles the refresh reads, brings those tiles up to date
 * through the tile store, asks which sums cannot be combined exactly (they read raw), compiles the
 * tiled query and wraps it into the statement Evaluate runs. `verify` also evaluates the full and
 * the tiled query and fails with TilesMismatchError on any difference, before anything is written.
 * Tiles built from the lake lose the rows of forgotten people again (erasure records), as
 * `cohorts forget` left the stored ones. In `full` mode no tile is touched: the statement is the
 * plan's full query.
 */
export async function tilesStep(event: TilesEvent, ports: TilesPorts): Promise<TilesState> {
  const { plan } = event;
  const full = planPartitions(plan);
  if (plan.mode === 'full') {
    const bytes = await estimatedBytes(ports.tiles, undefined, full);
    return {
      statement: ports.statement(plan),
      mode: 'full',
      raw_partitions: full,
      raw_measures: [],
      built_days: [],
      rebuilt_days: [],
      reused_days: 0,
      bytes_scanned: { ...(bytes.full_estimate === undefined ? {} : { evaluate: bytes.full_estimate }), ...bytes },
    };
  }
  const cohorts = await plannedDefinitions(plan, ports);
  const lake = await ports.engine.lake();
  const request: CompileRequest = {
    cohorts,
    asOf: new Date(plan.as_of),
    lake: lake.relations,
    dialect: ports.engine.dialect,
    metrics: plan.metrics.settings,
  };
  const first = firstPartition(lake);
  const days = tileDaysNeeded(request, first);
  const retention = plan.config.tiles?.retention_days;
  const expiry = tileExpiry({
    uses: requestUses(request),
    asOf: request.asOf.getTime(),
    ...(retention === undefined ? {} : { retentionDays: retention }),
  });
  const measures = catalogMeasures(cohorts, plan.metrics.settings);
  const isForgotten = await forgottenTest(ports, plan);
  const report = await ports.tiles.refresh({ measures, days, runId: plan.run_id, expiry, screen: isForgotten !== undefined });
  // The builds read the lake, where forgotten people's events still are: their rows go again.
  if (isForgotten) await ports.tiles.forgetForgotten(isForgotten, [...report.built, ...report.rebuilt.map((r) => r.day)]);
  // After a successful build and before the relations: no day this refresh reads one by one is expired.
  const expired = ports.tiles.expire ? await ports.tiles.expire(expiry.keepFrom) : [];
  // The population and identity map kept beside the tiles, where the store keeps them (issue 15).
  const { bytesScanned: populationBytes, ...population } = (ports.tiles.population ? await ports.tiles.population(days) : undefined) ?? {};
  // The count uses' per-key partials carried from the previous refresh, where the store keeps them (issue 14).
  const carried = ports.tiles.carry ? await ports.tiles.carry(days, carryUses(request)) : undefined;
  const tiles = { ...ports.tiles.relations(days), ...population, ...carried };
  const tiled = { ...request, tiles, ...(first === undefined ? {} : { firstPartition: first }) };
  // Sums whose tile days hold a fraction are known from what the store keeps per tile file; the query asks about the rest.
  const fractional = ports.tiles.fractionalSums ? await ports.tiles.fractionalSums(days, sumUses(request)) : [];
  const asked = (await ports.engine.rows(inexactSumsSql({ ...tiled, rawMeasures: fractional }))).map((row) => String(row.measure));
  // Of those, the sums read only through bounds stay on tiles when every person's side of every bound is decided (sum-bounds.ts).
  const raw = await rawSums(tiled, [...fractional, ...asked], (sql) => ports.engine.rows(sql));
  const compiled = compileTiledRefresh({ ...tiled, rawMeasures: raw.measures, rawUses: raw.uses });
  for (const cohort of plan.cohorts) {
    if (compiled.columns.get(cohort.id) !== cohort.column)
      throw new Error(`the tiled query names cohort "${cohort.id}" ${compiled.columns.get(cohort.id)}, the plan ${cohort.column}`);
  }
  if (plan.mode === 'verify') {
    const columns = new Map(plan.cohorts.map((c) => [c.id, c.column]));
    await verifyTiles(
      {
        runId: plan.run_id,
        full: { sql: plan.query, columns },
        tiles: { sql: compiled.sql, columns: compiled.columns },
        cohorts: plan.cohorts.map((c) => c.id),
        ...(isForgotten ? { isForgotten } : {}),
      },
      ports.engine,
    );
  }
  const read = { days: daysIn(days, compiled.tileDays), partitions: compiled.rawPartitions };
  const estimated = await estimatedBytes(ports.tiles, read, full);
  // The population index's INSERT is part of bringing the tiles up to date.
  const built =
    report.bytesScanned === undefined && populationBytes === undefined ? undefined : (report.bytesScanned ?? 0) + (populationBytes ?? 0);
  const bytes: BytesScanned = { ...(built === undefined ? {} : { tiles_build: built }), ...estimated };
  return {
    statement: ports.statement({ ...plan, query: compiled.sql }),
    query: compiled.sql,
    mode: plan.mode,
    ...(compiled.tileDays ? { tile_days: compiled.tileDays } : {}),
    raw_partitions: [...compiled.rawPartitions],
    raw_measures: [...compiled.rawMeasures],
    built_days: [...report.built],
    rebuilt_days: report.rebuilt.map(({ day, reason }) => ({ day, reason })),
    reused_days: report.fresh,
    ...(expired.length > 0 ? { expired_days: [...expired] } : {}),
    ...rollupRead(ports.tiles, compiled.tileDays),
    bytes_scanned: bytes,
  };
}

/** The day before which the query read the rollup tile, when the store has one and the query reads all history. */
function rollupRead(store: TileStore, read: { readonly from?: string; readonly to: string } | undefined): { rollup_before?: string } {
  if (!store.rolledUpBefore || read === undefined || read.from !== undefined) return {};
  const before = store.rolledUpBefore();
  return before === undefined ? {} : { rollup_before: before };
}
