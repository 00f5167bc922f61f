import type { DuckDBConnection } from '@duckdb/node-api';
import { expect } from 'vitest';
import { type CompileRequest, compileRefresh } from '../../shared/compiler/compile-refresh.ts';
import { duckdbDialect } from '../../shared/compiler/duckdb-dialect.ts';
import type { MetricSettings } from '../../shared/config/schema.ts';
import type { CohortDefinition } from '../../shared/language/ast.ts';
import { type Leaf, leaves } from '../../shared/language/condition-leaves.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { findLakeFiles } from '../../shared/local/lake-files.ts';
import { CARRIED_LATEST, LocalCarry } from '../../shared/local/local-carry.ts';
import { expectSameKpis, expectSameValues, valueShape } from './compare-kpis.ts';
import { LocalFractional } from '../../shared/local/local-fractional.ts';
import { LocalPopulation } from '../../shared/local/local-population.ts';
import { carryUses, latestCarryUses, sumUses } from '../../shared/tiles/carry-uses.ts';
import { LocalTileStore } from '../../shared/local/local-tiles.ts';
import type { TileStatus } from '../../shared/tiles/fingerprint.ts';
import { DAY_MS, dayOf } from '../../shared/tiles/day-split.ts';
import { catalogMeasures, leafUses, scanStart } from '../../shared/tiles/measures.ts';
import { tiledLeafSql } from '../../shared/tiles/tile-evaluation.ts';
import { rawSums } from '../../shared/tiles/sum-bounds.ts';
import { compileTiledRefresh, inexactSumsSql, type TiledRefresh, tileDaysNeeded } from '../../shared/tiles/tiled-refresh.ts';

type MeasureLeaf = Exclude<Leaf, { kind: 'cohort' | 'list' }>;

/** Every measure leaf of a catalog as a cohort of its own, so the full computation evaluates each one. */
function leafCohorts(definitions: readonly CohortDefinition[]): { cohort: CohortDefinition; leaf: MeasureLeaf }[] {
  const found = definitions.flatMap((d) =>
    leaves(d.rule).flatMap((leaf) => (leaf.kind === 'cohort' || leaf.kind === 'list' ? [] : [{ d, leaf }])),
  );
  return found.map(({ d, leaf }, i) => ({ cohort: { ...d, id: `leaf_${i}`, rule: leaf }, leaf }));
}

/** A lake, a catalog's leaves and a tile store: builds tiles, then compares leaves with the full computation. */
export class TileComparison {
  private readonly engine: DuckDbEngine;
  private readonly leafs: { cohort: CohortDefinition; leaf: MeasureLeaf }[];
  readonly store: LocalTileStore;
  private readonly population: LocalPopulation;
  /** The carried partials of the count uses (LocalCarry), kept in the state folder from one comparison to the next. */
  readonly carry: LocalCarry;
  /** The carried rows of the all-history `latest` uses (LocalCarry, CARRIED_LATEST), kept likewise. */
  readonly carryLatest: LocalCarry;
  private readonly fractional: LocalFractional;
  /** The sums the last compareRefresh found inexact (tiles do not give their bits), before the bounds decided some. */
  lastInexact: readonly string[] = [];

  constructor(
    connection: DuckDBConnection,
    private readonly lakeDir: string,
    private readonly definitions: readonly CohortDefinition[],
    readonly stateDir: string,
    private readonly metrics?: MetricSettings,
    /** The definitions folder, whose uploaded lists the whole-catalog comparison reads. */
    definitionsDir?: string,
  ) {
    this.engine = new DuckDbEngine(connection, lakeDir, 'duckdb', undefined, definitionsDir);
    this.leafs = leafCohorts(definitions);
    this.store = new LocalTileStore(connection, stateDir);
    this.population = new LocalPopulation(connection, stateDir);
    this.carry = new LocalCarry(connection, stateDir);
    this.carryLatest = new LocalCarry(connection, stateDir, CARRIED_LATEST);
    this.fractional = new LocalFractional(connection, stateDir);
  }

  /** Every day from the day before the lake's first partition up to the day before `until`. */
  async days(until: number): Promise<string[]> {
    const files = await findLakeFiles(this.lakeDir);
    const days: string[] = [];
    const last = Math.floor(until / DAY_MS) * DAY_MS;
    for (let day = Date.parse(`${files.partitions[0]}T00:00:00Z`) - DAY_MS; day < last; day += DAY_MS) days.push(dayOf(day));
    return days;
  }

  /** Builds the missing and stale tiles of the days before `until`; each day's status before. */
  async build(until: number): Promise<Map<string, TileStatus>> {
    const lake = await this.engine.lake();
    const measures = catalogMeasures(this.definitions, this.metrics);
    return this.store.refresh(measures, await this.days(until), lake.relations, await findLakeFiles(this.lakeDir));
  }

  /**
   * Asserts that, as of `asOf`, the tiles give the full computation's population and, for every
   * leaf whose tiles combine exactly, its members; a leaf that does not is a sum (it reads raw), and
   * a sequence is left to compareRefresh.
   * Returns how many leaves were compared and how many must read raw.
   */
  async compare(asOf: number): Promise<{ compared: number; raw: number }> {
    const lake = await this.engine.lake();
    const full = compileRefresh({
      cohorts: this.leafs.map((l) => l.cohort),
      asOf: new Date(asOf),
      lake: lake.relations,
      dialect: duckdbDialect,
    });
    const fullRows = await this.engine.rows(full.sql);
    const population = fullRows.map((r) => String(r.person_id)).sort();
    const start = scanStart(this.leafs.flatMap((l) => leafUses(l.leaf, asOf)));
    const built = (await this.days(asOf)).filter((d) => d < dayOf(asOf));
    const sources = {
      dialect: duckdbDialect,
      events: lake.relations.events,
      identities: lake.relations.identities,
      ...this.store.relations(built),
      asOf,
      ...(start === undefined ? {} : { scanStart: start }),
    };
    const counts = { compared: 0, raw: 0 };
    for (const { cohort, leaf } of this.leafs) {
      // A sequence has no tiles of its own (it reads raw events over its window): compareRefresh compares it.
      if (leaf.kind === 'sequence') {
        counts.raw += 1;
        continue;
      }
      const rows = await this.engine.rows(tiledLeafSql(sources, leaf));
      expect(rows.map((r) => String(r.person_id)).sort()).toEqual(population);
      if (!rows.every((r) => r.exact === true)) {
        expect(leaf.kind === 'event' && leaf.measure.kind === 'sum').toBe(true);
        counts.raw += 1;
        continue;
      }
      counts.compared += 1;
      const column = full.columns.get(cohort.id) as string;
      const expected = fullRows
        .filter((r) => r[column] === true)
        .map((r) => String(r.person_id))
        .sort();
      const members = rows
        .filter((r) => r.member === true)
        .map((r) => String(r.person_id))
        .sort();
      expect({ leaf: cohort.id, members }).toEqual({ leaf: cohort.id, members: expected });
    }
    return counts;
  }

  /**
   * Asserts that, as of `asOf`, the whole catalog (and the metrics) compiled over tiles gives the
   * full computation's rows: the same population, the same members of every cohort, the same
   * activation and value (a sum of fractions only to the last bits, which no engine fixes: the same
   * KPIs once rounded as a version writes them). The sums read through bounds that tiles cannot hold
   * exactly are found by inexactSumsSql and read raw when undecided, as the tiles step does.
   * `forgotten`: people dropped from the tiles, expected in no row over tiles.
   */
  async compareRefresh(asOf: number, forgotten: readonly string[] = []): Promise<TiledRefresh> {
    const lake = await this.engine.lake();
    const request: CompileRequest = {
      cohorts: this.definitions,
      asOf: new Date(asOf),
      lake: lake.relations,
      dialect: duckdbDialect,
      ...(this.metrics ? { metrics: this.metrics } : {}),
    };
    const full = compileRefresh(request);
    const firstPartition = (await findLakeFiles(this.lakeDir)).partitions[0];
    const tiles = this.store.relations(tileDaysNeeded(request, firstPartition));
    const inexact = (await this.engine.rows(inexactSumsSql({ ...request, tiles }))).map((r) => String(r.measure));
    // The sums known fractional from the tile files (LocalFractional) are among them, and the query asked about the others names the rest.
    const fractional = await this.fractional.inexact(
      sumUses(request),
      tileDaysNeeded(request, firstPartition),
      (some) => this.store.relations(some).tiles,
      (day) => this.store.files([day])[0] as string,
    );
    const asked = await this.engine.rows(inexactSumsSql({ ...request, tiles, rawMeasures: fractional }));
    expect([...fractional, ...asked.map((r) => String(r.measure))].sort()).toEqual([...inexact].sort());
    // Of those, the sums whose every person's side of every bound is decided read tiles (sum-bounds.ts), as the tiles step does.
    const { measures: rawMeasures, uses: rawUses } = await rawSums({ ...request, tiles }, inexact, (sql) => this.engine.rows(sql));
    this.lastInexact = inexact;
    const tiled = compileTiledRefresh({
      ...request,
      tiles,
      rawMeasures,
      rawUses,
      ...(firstPartition === undefined ? {} : { firstPartition }),
    });
    expect([...tiled.columns]).toEqual([...full.columns]);
    expect(tiled.metrics).toEqual(full.metrics);
    // People forgotten in the tiles (erasure) are still in the lake the full computation reads.
    const kept = (rows: Record<string, unknown>[]) => rows.filter((row) => !forgotten.includes(String(row.person_id)));
    const [want, got] = [kept(await this.engine.rows(full.sql)), await this.engine.rows(tiled.sql)];
    const view = (rows: Record<string, unknown>[]) =>
      rows
        .map((row) => {
          const out: Record<string, unknown> = {};
          for (const [key, value] of Object.entries(row)) {
            out[key] = key === full.metrics?.value ? valueShape(value) : value;
          }
          return out;
        })
        .sort((a, b) => (String(a.person_id) < String(b.person_id) ? -1 : 1));
    expect(view(got)).toEqual(view(want));
    // The value read from tiles (issue 14, whether its parts are integral or not): each person's to the last bits
    // of the order of adding, and every cohort's KPIs once rounded as a version writes them.
    const metrics = full.metrics;
    if (metrics && this.metrics) {
      expectSameValues(got, want, metrics.value);
      const sorted = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => (String(a.person_id) < String(b.person_id) ? -1 : 1));
      expectSameKpis(sorted(got), sorted(want), [...full.columns.values()], metrics, this.metrics);
    }
    // The same query reading the population index (issue 15) gives the same rows.
    const days = tileDaysNeeded(request, firstPartition);
    const index = await this.population.relations(
      days,
      (some) => this.store.relations(some).tiles,
      (day) => this.store.files([day])[0] as string,
    );
    const indexed = compileTiledRefresh({
      ...request,
      tiles: { ...tiles, ...index },
      rawMeasures,
      rawUses,
      ...(firstPartition === undefined ? {} : { firstPartition }),
    });
    expect(indexed.sql).toContain(index.population);
    expect(view(await this.engine.rows(indexed.sql))).toEqual(view(want));
    // And with the count uses' partials and the all-history latest uses' rows carried from the previous comparison of
    // this state folder (issue 14).
    const tilesOf = (some: readonly string[]) => this.store.relations(some).tiles;
    const fileOf = (day: string) => this.store.files([day])[0] as string;
    const carried = await this.carry.relations(carryUses(request), days, tilesOf, fileOf);
    const latest = await this.carryLatest.relations(latestCarryUses(request), days, tilesOf, fileOf);
    if (carried || latest) {
      const carrying = compileTiledRefresh({
        ...request,
        tiles: {
          ...tiles,
          ...index,
          ...carried,
          ...(latest ? { carriedLatest: latest.carried, carriedLatestKeys: latest.carriedKeys } : {}),
        },
        rawMeasures,
        rawUses,
        ...(firstPartition === undefined ? {} : { firstPartition }),
      });
      if (carried) expect(carrying.sql).toContain(carried.carried);
      if (latest) expect(carrying.sql).toContain(latest.carried);
      expect(view(await this.engine.rows(carrying.sql))).toEqual(view(want));
    }
    return tiled;
  }
}
