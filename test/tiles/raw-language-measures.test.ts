import { describe, expect, it } from 'vitest';
import { athenaDialect } from '../../shared/compiler/athena-dialect.ts';
import { tileExpiry } from '../../shared/tiles/expiry.ts';
import { catalogMeasures, leafUses, readsRaw } from '../../shared/tiles/measures.ts';
import { leaves } from '../../shared/language/condition-leaves.ts';
import { compileTiledRefresh, inexactSumsSql, requestUses } from '../../shared/tiles/tiled-refresh.ts';
import { AS_OF, catalog, LAKE } from '../compiler/support.ts';

/**
 * Issue 16: `earliest` and a `where` with a date operator are read raw over their window (no
 * tiles are built for them; lineage names them among the raw measures); string operators and
 * `$` names in `where` are a measure's scope like any other filter, so they stay tiled.
 */
const cohorts = catalog({
  first_plan: 'earliest: {event: plan_set, property: plan}\neq: pro',
  recent_signup: 'event: trait_set\nwhere: {signup_at: {within: 7d}}',
  last_plan: 'latest: {event: plan_set, property: plan, within: 30d}\nwithin_next: 7d',
  chrome: 'event: $pageview\nwhere: {$browser: {icontains: chrome}}\nsum: {of: $price, gte: 10}',
});
const measureOf = (id: string) => {
  const leaf = leaves(cohorts.find((c) => c.id === id)?.rule ?? { kind: 'all', items: [] })[0];
  if (!leaf) throw new Error(id);
  return (leafUses(leaf, AS_OF.getTime())[0] as ReturnType<typeof leafUses>[number]).measure;
};
const TILES = { tiles: 'cohorts.tiles', contestedIds: '(SELECT event_id FROM c)', contestedEvents: 'c' };
const request = { cohorts, asOf: AS_OF, lake: LAKE, dialect: athenaDialect, tiles: TILES, firstPartition: '2024-01-01' };

describe('measures of the language of issue 16 over tiles', () => {
  it('reads earliest and date-operator scopes raw; a date operator beside latest and string operators stay tiled', () => {
    expect(readsRaw(measureOf('first_plan'))).toBe(true);
    expect(readsRaw(measureOf('recent_signup'))).toBe(true);
    expect(readsRaw(measureOf('last_plan'))).toBe(false);
    expect(readsRaw(measureOf('chrome'))).toBe(false);
  });

  it('builds no tiles for the raw ones', () => {
    expect(
      catalogMeasures(cohorts)
        .map((m) => m.id)
        .sort(),
    ).toEqual([measureOf('last_plan').id, measureOf('chrome').id].sort());
  });

  it('names them among the raw measures of the tiled query, whatever the caller found inexact', () => {
    const compiled = compileTiledRefresh({ ...request, rawMeasures: [] });
    expect(compiled.rawMeasures).toEqual([measureOf('first_plan').id, measureOf('recent_signup').id].sort());
    expect(compiled.sql).toContain('min_by(x.latest_json, ROW(x.latest_ts, x.latest_event_id))');
  });

  it('leaves them out of the inexact-sums query (they have no tiles to check)', () => {
    const sql = inexactSumsSql({
      ...request,
      cohorts: catalog({ dated_sum: 'event: trait_set\nwhere: {signup_at: {before: 1d}}\nsum: {gte: 1}' }),
    });
    expect(sql).toBe('SELECT CAST(NULL AS VARCHAR) AS measure WHERE FALSE');
  });

  it('keeps no tile days and rolls up nothing for them (an all-history earliest does not hold the rollup stale)', () => {
    const asOf = AS_OF.getTime();
    const expiry = tileExpiry({ uses: requestUses(request), asOf });
    // first_plan reads all history raw: only the tiled measures count (last_plan's 30d window, chrome's all history).
    expect(expiry.rollupMeasures).toEqual([measureOf('chrome').id]);
    const tiledOnly = tileExpiry({
      uses: requestUses({ ...request, cohorts: cohorts.filter((c) => c.id !== 'first_plan' && c.id !== 'recent_signup') }),
      asOf,
    });
    expect(expiry).toEqual(tiledOnly);
  });
});
