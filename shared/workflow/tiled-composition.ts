import type { CompileRequest } from '../compiler/compile-refresh.ts';
import type { MetricSettings } from '../config/schema.ts';
import type { CohortDefinition } from '../language/ast.ts';
import type { LakeView, QueryEngine } from '../ports.ts';
import { carryUses, latestCarryUses, sumUses } from '../tiles/carry-uses.ts';
import { tileExpiry } from '../tiles/expiry.ts';
import { catalogMeasures } from '../tiles/measures.ts';
import { rawSums } from '../tiles/sum-bounds.ts';
import type { TileRefreshReport, TileStore } from '../tiles/tile-store.ts';
import { compileTiledRefresh, inexactSumsSql, requestUses, type TiledRefresh, tileDaysNeeded } from '../tiles/tiled-refresh.ts';

/** What a refresh from tiles is asked: the cohorts it evaluates, at which instant, for which run. */
export interface TiledRun {
  readonly cohorts: readonly CohortDefinition[];
  readonly asOf: Date;
  readonly metrics: MetricSettings;
  readonly runId: string;
  /** Days kept as single tile days even when no window needs them (`tiles.retention_days`). @default - none */
  readonly retentionDays?: number;
  /** Whether a person id is forgotten (erasure records); absent when nobody is. */
  readonly isForgotten?: (personId: string) => boolean;
}

/** What it runs on: the engine's lake, rows and dialect, and the tile store of the same world. */
export interface TiledRunPorts {
  readonly engine: Pick<QueryEngine, 'dialect' | 'lake' | 'rows'>;
  readonly tiles: TileStore;
}

/** The tiled query and what bringing the tiles up to date did. */
export interface TiledComposition {
  readonly request: CompileRequest;
  /** The tile days the refresh needs (tileDaysNeeded). */
  readonly days: readonly string[];
  readonly report: TileRefreshReport;
  /** Days folded into the rollup and deleted (expiry). */
  readonly expired: readonly string[];
  /** What the population index's statements scanned, where the store tells. */
  readonly populationBytes?: number;
  /** The sums tiles could not combine exactly (fractional or asked), and of those what reads raw (sum-bounds.ts). */
  readonly inexact: readonly string[];
  readonly raw: { readonly measures: readonly string[]; readonly uses: readonly string[] };
  readonly compiled: TiledRefresh;
}

/** The lake's first `dt` partition (YYYY-MM-DD), undefined for an empty lake. */
function firstPartition(lake: LakeView): string | undefined {
  const all = lake.inputs({ to: '9999-12-31' }).find((i) => i.table === 'events')?.partitions ?? [];
  return all.map((p) => p.replace(/^dt=/, '')).sort()[0];
}

/**
 * The Tiles step's work, apart from its event and state (issue 14): derives the measures and the
 * tile days the refresh needs, brings those tiles up to date through the store (forgotten people's
 * rows dropped again from what it built), folds expired days into the rollup, brings the
 * population and the carried partials up to date where the store keeps them, asks which sums
 * cannot be combined exactly (they read raw) and compiles the tiled query. The Athena check
 * (test/athena-check/tiles-check.mts) runs this very function against the emulated Athena, so the
 * cloud's composition is the one proven there.
 */
export async function composeTiledRefresh(run: TiledRun, ports: TiledRunPorts): Promise<TiledComposition> {
  const lake = await ports.engine.lake();
  const request: CompileRequest = {
    cohorts: run.cohorts,
    asOf: run.asOf,
    lake: lake.relations,
    dialect: ports.engine.dialect,
    metrics: run.metrics,
  };
  const first = firstPartition(lake);
  const days = tileDaysNeeded(request, first);
  const expiry = tileExpiry({
    uses: requestUses(request),
    asOf: request.asOf.getTime(),
    ...(run.retentionDays === undefined ? {} : { retentionDays: run.retentionDays }),
  });
  const measures = catalogMeasures(run.cohorts, run.metrics);
  const { isForgotten } = run;
  const report = await ports.tiles.refresh({ measures, days, runId: run.runId, expiry, screen: isForgotten !== undefined });
  // The builds read the lake, where forgotten people's events still are: their rows go again.
  if (isForgotten) await ports.tiles.forgetForgotten(isForgotten, [...report.built, ...report.rebuilt.map((r) => r.day)]);
  // After a successful build and before the relations: no day this refresh reads one by one is expired.
  const expired = ports.tiles.expire ? await ports.tiles.expire(expiry.keepFrom) : [];
  // The population and identity map kept beside the tiles, where the store keeps them (issue 15).
  const { bytesScanned: populationBytes, ...population } = (ports.tiles.population ? await ports.tiles.population(days) : undefined) ?? {};
  // The count uses' per-key partials and the all-history latest uses' rows carried from the previous refresh, where the store keeps them (issue 14).
  const carried = ports.tiles.carry ? await ports.tiles.carry(days, carryUses(request), latestCarryUses(request)) : undefined;
  const tiles = { ...ports.tiles.relations(days), ...population, ...carried };
  const tiled = { ...request, tiles, ...(first === undefined ? {} : { firstPartition: first }) };
  // Sums whose tile days hold a fraction are known from what the store keeps per tile file; the query asks about the rest.
  const fractional = ports.tiles.fractionalSums ? await ports.tiles.fractionalSums(days, sumUses(request)) : [];
  const asked = (await ports.engine.rows(inexactSumsSql({ ...tiled, rawMeasures: fractional }))).map((row) => String(row.measure));
  // Of those, the sums read only through bounds stay on tiles when every person's side of every bound is decided (sum-bounds.ts).
  const inexact = [...fractional, ...asked];
  const raw = await rawSums(tiled, inexact, (sql) => ports.engine.rows(sql));
  const compiled = compileTiledRefresh({ ...tiled, rawMeasures: raw.measures, rawUses: raw.uses });
  return { request, days, report, expired, ...(populationBytes === undefined ? {} : { populationBytes }), inexact, raw, compiled };
}
