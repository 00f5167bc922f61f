import { describe, expect, it } from 'vitest';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { leaves } from '../../shared/language/condition-leaves.ts';
import { expiredDays, firstTileDayNeeded, tileExpiry } from '../../shared/tiles/expiry.ts';
import { leafUses } from '../../shared/tiles/measures.ts';

const uses = (rules: Record<string, string>, asOf: number) =>
  buildCatalog(
    Object.entries(rules).map(([id, rule]) => ({
      path: `definitions/${id}.yaml`,
      text: `id: ${id}\nname: ${id}\nowner: tiles\npurpose: expiry test\ncadence: daily\nrule:\n${rule}\n`,
    })),
  ).definitions.flatMap((d) => leaves(d.rule).flatMap((leaf) => leafUses(leaf, asOf)));

const T = Date.parse('2024-06-10T00:00:00Z');
const NOON = Date.parse('2024-06-10T12:00:00Z');

describe('firstTileDayNeeded', () => {
  it("keeps T's day when only the population reads all history, and the retention's days before it", () => {
    expect(firstTileDayNeeded({ uses: [], asOf: NOON })).toBe('2024-06-10');
    expect(firstTileDayNeeded({ uses: [], asOf: NOON, retentionDays: 30 })).toBe('2024-05-11');
  });

  it('keeps the first whole day of the widest bounded window (a partial day at its edge is read raw)', () => {
    const found = uses({ aaa: '  event: login\n  within: 7d', bbb: '  event: login\n  within: 36h' }, NOON);
    expect(firstTileDayNeeded({ uses: found, asOf: NOON })).toBe('2024-06-04');
    expect(firstTileDayNeeded({ uses: uses({ aaa: '  event: login\n  within: 7d' }, T), asOf: T })).toBe('2024-06-03');
  });

  it('keeps both windows of a velocity and the days a `between` window starts at', () => {
    expect(firstTileDayNeeded({ uses: uses({ vvv: '  velocity: {event: login, window: 3d}\n  gt: 1' }, T), asOf: T })).toBe('2024-06-04');
    expect(firstTileDayNeeded({ uses: uses({ bbb: '  event: login\n  between: [20d, 5d]' }, T), asOf: T })).toBe('2024-05-21');
  });

  it('folds no day an all-history window does not read whole: a `before` window ends where single days must start', () => {
    const found = uses({ vvv: '  event: login\n  before: 5d', www: '  event: login\n  within: 2d' }, NOON);
    expect(firstTileDayNeeded({ uses: found, asOf: NOON })).toBe('2024-06-05');
    expect(firstTileDayNeeded({ uses: found, asOf: NOON, retentionDays: 10 })).toBe('2024-05-31');
  });

  it('names the measures read over all history, which the rollup must hold', () => {
    const found = uses({ vvv: '  event: login\n  before: 5d', eee: '  event: buy', www: '  event: view\n  within: 2d' }, T);
    const expiry = tileExpiry({ uses: found, asOf: T });
    const allHistory = found.filter((u) => u.range.from === undefined).map((u) => u.measure.id);
    expect(expiry.rollupMeasures).toEqual([...new Set(allHistory)].sort());
    expect(expiry.rollupMeasures).toHaveLength(2);
    expect(expiry.keepFrom).toBe('2024-06-05');
  });
});

describe('expiredDays', () => {
  it('gives the days before the first day kept', () => {
    expect(expiredDays(['2024-06-03', '2024-06-01', '2024-06-02'], '2024-06-03')).toEqual(['2024-06-01', '2024-06-02']);
  });
});
