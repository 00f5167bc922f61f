import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config/config.ts';
import type { MetricSettings } from '../../shared/config/schema.ts';
import type { CohortDefinition } from '../../shared/language/ast.ts';
import { loadCatalog } from '../../shared/language/catalog.ts';
import { leaves } from '../../shared/language/condition-leaves.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { DAY_MS } from '../../shared/tiles/day-split.ts';
import { tempDir } from '../support/cli.ts';
import { allCaseDirs } from '../support/conformance.ts';
import { TileComparison } from './compare-tiles.ts';

const HOUR_MS = 3_600_000;
/** As-of instants around the case's own (midnight): early morning the day before, mid-day after, and days before. */
const OFFSETS_MS = [0, -5 * HOUR_MS, 13 * HOUR_MS, -3 * DAY_MS - 7 * HOUR_MS];

/**
 * KPI metrics over the case's own data: activation is the first event leaf's filter (its window
 * too), value is the `value` of any event over 36 hours (a window that cuts a day in two).
 */
function caseMetrics(definitions: readonly CohortDefinition[]): MetricSettings {
  const defaults = parseConfig('metrics:\n  activation: {event: "*", within: 3d}\n  value: {within: 36h}\n', 'cohorts.config.yaml').metrics;
  const first = definitions.flatMap((d) => leaves(d.rule)).find((leaf) => leaf.kind === 'event');
  return first ? { ...defaults, activation: first.filter } : defaults;
}

describe.each(allCaseDirs().map((dir) => [basename(dir), dir] as const))('tiles against the full computation: case %s', (_name, dir) => {
  const caseAsOf = Date.parse((JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as { as_of: string }).as_of);
  let comparison: TileComparison;

  beforeAll(async () => {
    // GIVEN the case's catalog and lake, and tiles built for every day up to the latest as-of
    const catalog = await loadCatalog(join(dir, 'definitions'));
    expect(catalog.problems).toEqual([]);
    const definitions = catalog.definitions;
    comparison = new TileComparison(
      await openDuckDb(),
      join(dir, 'lake'),
      definitions,
      await tempDir(),
      caseMetrics(definitions),
      join(dir, 'definitions'),
    );
    const built = await comparison.build(caseAsOf + Math.max(...OFFSETS_MS));
    expect([...built.values()].every((s) => s.status === 'missing')).toBe(true);
  });

  it.each(OFFSETS_MS.map((offset) => new Date(caseAsOf + offset).toISOString()))(
    'gives every leaf the members and the population of the full computation as of %s',
    async (iso) => {
      // WHEN every leaf is computed in full (one cohort per leaf, one query) and from tiles plus raw edges
      // THEN the population and the members of every exactly combinable leaf are the same
      const { compared } = await comparison.compare(Date.parse(iso));
      expect(compared).toBeGreaterThan(0);
    },
  );

  it.each(OFFSETS_MS.map((offset) => new Date(caseAsOf + offset).toISOString()))(
    'gives the whole catalog and its metrics, in one tiled query, the rows of the full computation as of %s',
    async (iso) => {
      // WHEN the catalog is compiled once in full and once over tiles (inexact sums read raw)
      // THEN every person, every cohort column and the metric columns are the same
      const tiled = await comparison.compareRefresh(Date.parse(iso));
      expect(tiled.measures.length).toBeGreaterThan(0);
    },
  );
});
