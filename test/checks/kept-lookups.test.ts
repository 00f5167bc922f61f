import { describe, expect, it } from 'vitest';
import { filterHeld } from '../../shared/checks/digest-filter.ts';
import { type WindowPart, windowOfParts } from '../../shared/checks/source-check-parts.ts';
import type { SourceCheckRow } from '../../shared/checks/source-rows.ts';
import { digests, store } from './digest-support.ts';

const LAKE = { grain: 'lake', source: null, event_day: null, row_count: 1 } as unknown as SourceCheckRow;
/** Digests' worth of memory a tick may hold of kept parts: by digest counts, parts of 10,000 went one at a time. */
const BUDGET = 12_000;

/**
 * Six kept parts of 10,000 digests (`filtered` says which have a filter) checked by the last run, and
 * today's part of `fresh` new digests none of them holds; the kept objects answer after a delay, and
 * what is being read is counted while in flight: filters, and digests' worth of memory (a filter by
 * what reading it holds, a range by the digests it covers).
 */
function ticked(filtered: readonly boolean[], fresh: number) {
  const s = store();
  const all = digests(60_000, 7n);
  const kept = new Set(all);
  const parts: WindowPart[] = filtered.map((f, k) => ({
    id: `k${k}`,
    rows: [LAKE],
    kept: s.keep(
      `k${k}.digests`,
      all.filter((_, i) => i % 6 === k),
      f,
    ),
  }));
  const today = digests(fresh, 99n).filter((v) => !kept.has(v));
  const inFlight = { filters: 0, held: 0 };
  const peak = { filters: 0, held: 0 };
  const track = async <T>(filters: number, held: number, answer: () => Promise<T>): Promise<T> => {
    inFlight.filters += filters;
    inFlight.held += held;
    peak.filters = Math.max(peak.filters, inFlight.filters);
    peak.held = Math.max(peak.held, inFlight.held);
    await new Promise((resolve) => setTimeout(resolve, 5));
    inFlight.filters -= filters;
    inFlight.held -= held;
    return answer();
  };
  const filterOf = (key: string) => parts.find((p) => p.kept?.filter?.key === key)?.kept?.filter;
  const run = () =>
    windowOfParts([...parts, { id: 'today', rows: [LAKE], keys: today }], new Set(parts.map((p) => p.id)), {
      get: (key) => track(filterOf(key) ? 1 : 0, filterHeld(filterOf(key)), () => s.get(key)),
      // 32 characters of text a group of three digests.
      read: (key, start, end) => track(0, ((end - start) / 32) * 3, () => s.read(key, start, end)),
      broken: async () => {},
      digestsAtOnce: BUDGET,
    });
  return { s, peak, run };
}

describe('a tick looking its new digests up in kept parts', () => {
  it("reads several parts' filters at once, chosen by what reading a filter holds, not by the parts' digest counts", async () => {
    const w = ticked([true, true, true, true, true, true], 3000);
    const added = await w.run();
    expect(added?.rows?.find((r) => r.grain === 'lake')?.row_count).toBe(7);
    // A filter of 10,000 digests holds 2,457 digests' worth while read (its text and its words): four at once.
    expect(w.peak.filters).toBe(4);
    expect(w.peak.held).toBeLessThanOrEqual(BUDGET);
  });

  it('holds at most the budget with filtered parts, parts without a filter and parts whose filter is lost, read whole', async () => {
    // 30,000 new digests fall in most buckets: a part without a filter to believe is read whole (10,000 digests).
    const w = ticked([true, false, true, true, true, true], 30_000);
    w.s.objects.delete('k2.digests.filter');
    w.s.objects.delete('k3.digests.filter');
    const added = await w.run();
    expect(added?.rows?.find((r) => r.grain === 'lake')?.row_count).toBe(7);
    // The filters still read four at once (the lost ones found lost), and never two whole parts at once (20,000 > 12,000).
    expect(w.peak.filters).toBe(4);
    expect(w.peak.held).toBeGreaterThanOrEqual(10_000);
    expect(w.peak.held).toBeLessThanOrEqual(BUDGET);
  });
});
