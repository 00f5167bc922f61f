import { describe, expect, it } from 'vitest';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { catalogMeasures, scanStart, leafUses } from '../../shared/tiles/measures.ts';
import { leaves } from '../../shared/language/condition-leaves.ts';

const catalog = (rules: Record<string, string>) =>
  buildCatalog(
    Object.entries(rules).map(([id, rule]) => ({
      path: `definitions/${id}.yaml`,
      text: `id: ${id}\nname: ${id}\nowner: tiles\npurpose: tiles test\ncadence: daily\nrule:\n${rule}\n`,
    })),
  ).definitions;

describe('catalogMeasures', () => {
  it('gives leaves that differ only by window, bounds or the order of lists one measure', () => {
    const definitions = catalog({
      aaa: '  event: [buy, sell]\n  source: [shop, app]\n  where: {plan: {in: [pro, team]}}\n  within: 7d\n  count: 2',
      bbb: '  event: [sell, buy]\n  source: [app, shop]\n  where: {plan: {in: [team, pro]}}\n  between: [30d, 7d]',
      ccc: '  velocity: {event: [buy, sell], source: [shop, app], where: {plan: {in: [pro, team]}}, window: 7d}\n  gt: 1',
    });
    expect(definitions).toHaveLength(3);
    expect(catalogMeasures(definitions)).toHaveLength(1);
  });

  it('keeps measures apart by aggregate, property and scope', () => {
    const definitions = catalog({
      aaa: '  event: buy\n  sum: {gte: 1}',
      bbb: '  event: buy\n  sum: {of: seats, gte: 1}',
      ccc: '  event: buy\n  distinct: {of: seats, gte: 1}',
      ddd: '  latest: {event: buy, property: seats}\n  exists: true',
      eee: '  event: buy\n  source: shop',
      fff: '  event: buy\n  where: {seats: 1}',
    });
    const measures = catalogMeasures(definitions);
    expect(measures.map((m) => m.aggregate.kind).sort()).toEqual(['count', 'count', 'distinct', 'latest', 'sum', 'sum']);
    expect(new Set(measures.map((m) => m.id)).size).toBe(6);
    expect(measures.every((m) => /^m[0-9a-f]{16}$/.test(m.id))).toBe(true);
  });
});

describe('scanStart', () => {
  it('is the widest window start, a velocity reaching back two windows, and all history once a leaf needs it', () => {
    const asOf = Date.parse('2024-03-10T00:00:00Z');
    const day = 86_400_000;
    const uses = (rules: Record<string, string>) => catalog(rules).flatMap((d) => leaves(d.rule).flatMap((l) => leafUses(l, asOf)));
    expect(scanStart(uses({ aaa: '  event: buy\n  within: 5d', bbb: '  velocity: {event: buy, window: 3d}\n  gt: 1' }))).toBe(
      asOf - 6 * day,
    );
    expect(scanStart(uses({ aaa: '  event: buy\n  within: 5d', bbb: '  event: buy\n  before: 1d' }))).toBeUndefined();
  });
});
