import { compileRefresh } from '../compiler/compile-refresh.ts';
import type { BytesScanned } from '../store/manifest.ts';
import type { TileStore } from '../tiles/tile-store.ts';
import { loadPrivacyLists } from '../privacy/screen.ts';
import type { TilesEvent } from './events.ts';
import { runPrivacy } from './run-config.ts';
import { plannedDefinitions } from './planned-definitions.ts';
import { composeTiledRefresh } from './tiled-composition.ts';
import { verifyTiles } from './tiles-verify.ts';
import type { TilesPorts, TilesState, WorkflowPlan } from './types.ts';

/** The plan's `dt` partitions of the events table, as dates. */
const planPartitions = (plan: WorkflowPlan): string[] =>
  plan.inputs.filter((i) => i.table === 'events').flatMap((i) => i.partitions.map((p) => p.replace(/^dt=/, '')));

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
  const isForgotten = await forgottenTest(ports, plan);
  const retention = plan.config.tiles?.retention_days;
  const { request, days, report, expired, populationBytes, compiled } = await composeTiledRefresh(
    {
      cohorts,
      asOf: new Date(plan.as_of),
      metrics: plan.metrics.settings,
      runId: plan.run_id,
      ...(retention === undefined ? {} : { retentionDays: retention }),
      ...(isForgotten === undefined ? {} : { isForgotten }),
    },
    ports,
  );
  for (const cohort of plan.cohorts) {
    if (compiled.columns.get(cohort.id) !== cohort.column)
      throw new Error(`the tiled query names cohort "${cohort.id}" ${compiled.columns.get(cohort.id)}, the plan ${cohort.column}`);
  }
  if (plan.mode === 'verify') {
    // The full query over the listing the tiles read, not Plan's: a file landing between Plan and
    // Tiles (`cohorts ingest` beside a run) must not make the two differ.
    const fullQuery = compileRefresh(request);
    await verifyTiles(
      {
        runId: plan.run_id,
        full: { sql: fullQuery.sql, columns: fullQuery.columns },
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
