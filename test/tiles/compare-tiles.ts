import type { DuckDBConnection } from '@duckdb/node-api';
import { expect } from 'vitest';
import { compileRefresh } from '../../shared/compiler/compile-refresh.ts';
import { duckdbDialect } from '../../shared/compiler/duckdb-dialect.ts';
import type { CohortDefinition } from '../../shared/language/ast.ts';
import { type Leaf, leaves } from '../../shared/language/condition-leaves.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { findLakeFiles } from '../../shared/local/lake-files.ts';
import { LocalTileStore } from '../../shared/local/local-tiles.ts';
import type { TileStatus } from '../../shared/tiles/fingerprint.ts';
import { DAY_MS, dayOf } from '../../shared/tiles/day-split.ts';
import { catalogMeasures, leafUses, scanStart } from '../../shared/tiles/measures.ts';
import { tiledLeafSql } from '../../shared/tiles/tile-evaluation.ts';

type MeasureLeaf = Exclude<Leaf, { kind: 'cohort' }>;

/** Every measure leaf of a catalog as a cohort of its own, so the full computation evaluates each one. */
function leafCohorts(definitions: readonly CohortDefinition[]): { cohort: CohortDefinition; leaf: MeasureLeaf }[] {
  const found = definitions.flatMap((d) => leaves(d.rule).flatMap((leaf) => (leaf.kind === 'cohort' ? [] : [{ d, leaf }])));
  return found.map(({ d, leaf }, i) => ({ cohort: { ...d, id: `leaf_${i}`, rule: leaf }, leaf }));
}

/** A lake, a catalog's leaves and a tile store: builds tiles, then compares leaves with the full computation. */
export class TileComparison {
  private readonly engine: DuckDbEngine;
  private readonly leafs: { cohort: CohortDefinition; leaf: MeasureLeaf }[];
  readonly store: LocalTileStore;

  constructor(
    connection: DuckDBConnection,
    private readonly lakeDir: string,
    definitions: readonly CohortDefinition[],
    readonly stateDir: string,
  ) {
    this.engine = new DuckDbEngine(connection, lakeDir);
    this.leafs = leafCohorts(definitions);
    this.store = new LocalTileStore(connection, stateDir);
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
    const measures = catalogMeasures(this.leafs.map((l) => l.cohort));
    return this.store.refresh(measures, await this.days(until), lake.relations, await findLakeFiles(this.lakeDir));
  }

  /**
   * Asserts that, as of `asOf`, the tiles give the full computation's population and, for every
   * leaf whose tiles combine exactly, its members; a leaf that does not is a sum (it reads raw).
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
}
