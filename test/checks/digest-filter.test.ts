import { describe, expect, it } from 'vitest';
import {
  FILTER_BITS_PER_DIGEST,
  FILTERED_MAX_RANGES,
  filterOf,
  filterRecord,
  filterText,
  maybeIn,
  readFilter,
} from '../../shared/checks/digest-filter.ts';
import { keptHoldAny } from '../../shared/checks/kept-lookups.ts';
import { digestsTextLength, MAX_RANGES } from '../../shared/checks/part-digests.ts';
import { KEPT_DIGESTS_AT_ONCE, type WindowPart, windowOfParts } from '../../shared/checks/source-check-parts.ts';
import type { SourceCheckRow } from '../../shared/checks/source-rows.ts';
import { digests, store } from './digest-support.ts';

const LAKE = { grain: 'lake', source: null, event_day: null, row_count: 1 } as unknown as SourceCheckRow;

describe("a kept part's digest filter", () => {
  it('says "no" only for digests not in the part, over parts of many sizes, and "maybe" for about 1 in 1,000 others', async () => {
    let [absentAsked, falseMaybes] = [0, 0];
    for (const [count, seed] of [
      [1, 3n],
      [7, 5n],
      [1000, 11n],
      [65_537, 13n],
      [120_000, 17n],
    ] as const) {
      const sorted = digests(count, seed);
      const s = store();
      const record = s.keep('p.digests', sorted, true);
      // Read back as kept (text, checked against its record), every digest of the part is a "maybe".
      const filter = (await readFilter(s.get, record.filter)) as Uint32Array;
      expect(Buffer.from(filter.buffer).equals(Buffer.from(filterOf(sorted).buffer))).toBe(true);
      expect(s.counted.bytes).toBeLessThan(Math.max(64, (count * FILTER_BITS_PER_DIGEST * 4) / 3 / 8 + 64));
      // (Counts and a flag, not the arrays: a failing comparison of 100,000 values takes minutes to print.)
      const own = maybeIn(filter, sorted);
      expect(own.length === sorted.length && own.every((v, i) => v === sorted[i])).toBe(true);
      // The ends of the range, both edges of every block's share of it, and values near the part's.
      const edges = [
        0n,
        1n,
        2n ** 64n - 1n,
        2n ** 32n - 1n,
        2n ** 32n,
        ...[...sorted.slice(0, 50)].flatMap((v) => [v ^ 1n, v ^ (1n << 40n)]),
      ];
      const kept = new Set(sorted);
      const absent = BigUint64Array.from(new Set([...digests(60_000, seed + 1000n), ...edges].filter((v) => !kept.has(v)))).sort();
      const maybe = maybeIn(filter, absent);
      const asked = new Set(absent);
      expect(maybe.every((v) => asked.has(v))).toBe(true);
      // The part's own among absent ones: all of them still "maybe", in order.
      const mixed = BigUint64Array.from([...absent.slice(0, 5000), ...sorted.slice(0, 5000)]).sort();
      expect([...maybeIn(filter, mixed)].filter((v) => kept.has(v)).join()).toBe([...sorted.slice(0, 5000)].join());
      if (count >= 1000) {
        absentAsked += absent.length;
        falseMaybes += maybe.length;
      }
    }
    // Measured: 16 bits a digest leave about 0.1% of absent digests to look up (a bad filter: far more).
    expect(falseMaybes / absentAsked).toBeLessThan(0.003);
    expect(falseMaybes).toBeGreaterThan(0);
  });
});

describe('a kept filter read back', () => {
  it('is decoded a piece of its text at a time into its words, and refused when a piece is not base64', async () => {
    // 40,000 blocks: 1.7M characters, two pieces of 2^20.
    const filter = new Uint32Array(40_000 * 8).map((_, i) => Math.imul(i + 1, 0x9e3779b1) >>> 0);
    const text = filterText(filter);
    const s = store();
    s.objects.set('f', Buffer.from(text));
    const read = await readFilter(s.get, filterRecord('f', filter, text));
    expect(read !== undefined && Buffer.from(read.buffer).equals(Buffer.from(filter.buffer))).toBe(true);
    // A character of the second piece that is no base64 (its record made for it, so only the decoding can refuse it).
    const bad = `${text.slice(0, 1_500_000)}!${text.slice(1_500_001)}`;
    s.objects.set('f', Buffer.from(bad));
    expect(await readFilter(s.get, filterRecord('f', filter, bad))).toBeUndefined();
  });
});

describe('a tick that looks its new digests up in kept parts with filters', () => {
  // Spread over the hash range alike: of every 61 digests in order, ten to each kept part, one to today.
  const all = digests(183_000, 41n);
  const of = (k: number) => all.filter((_, i) => Math.floor((i % 61) / 10) === k);
  /** Six kept parts of 30,000 digests checked by the last run, and today's part of 3,000 new digests (and the `planted`-th of all). */
  function ticked(filtered: boolean, planted?: number) {
    const s = store();
    const parts: WindowPart[] = [0, 1, 2, 3, 4, 5].map((k) => ({
      id: `k${k}`,
      rows: [LAKE],
      kept: s.keep(`k${k}.digests`, of(k), filtered),
    }));
    const fresh = of(6);
    // A copy of a kept part's digest among today's (the same event in two partitions).
    const today = planted === undefined ? fresh : BigUint64Array.from([...fresh, all[planted] as bigint]).sort();
    const broken: string[] = [];
    const run = () =>
      windowOfParts([...parts, { id: 'today', rows: [LAKE], keys: today }], new Set(parts.map((p) => p.id)), {
        get: s.get,
        read: s.read,
        broken: async (part) => {
          broken.push(part.id);
        },
      });
    return { s, parts, broken, run };
  }

  it('reads the filters and a few buckets, not every kept digest, and adds the parts up as without them', async () => {
    const [plain, filtered] = [ticked(false), ticked(true)];
    const [before, now] = [await plain.run(), await filtered.run()];
    expect(now).toEqual(before);
    expect(now?.rows?.find((r) => r.grain === 'lake')?.row_count).toBe(7);
    // Without filters, 3,000 new digests fall in most buckets: every part is read whole.
    expect(plain.s.counted.bytes).toBeGreaterThanOrEqual(6 * digestsTextLength(30_000));
    // With them: six filters (16 bits a digest, as base64) and a few buckets.
    expect(filtered.s.counted.bytes).toBeLessThan(6 * (filterText(filterOf(digests(30_000, 1n))).length + 16 * 200));
    expect(filtered.s.counted.bytes * 3.5).toBeLessThan(plain.s.counted.bytes);
  });

  it('reads the buckets of the digests a filter leaves one by one, not merged into MAX_RANGES ranges covering much of the part', async () => {
    // 40,000 new digests (a 5-minute tick at 10M events a day brings 35,000) against a part of 30,000: about 50 "maybe".
    const s = store();
    const record = s.keep('p.digests', of(0), true);
    const kept = new Set(of(0));
    const probes = digests(40_000, 99n).filter((v) => !kept.has(v));
    const filterBytes = (s.objects.get('p.digests.filter') as Uint8Array).byteLength;
    const reads = { get: s.get, read: s.read, broken: async () => {} };
    expect(await keptHoldAny([record], (r) => r, probes, reads, KEPT_DIGESTS_AT_ONCE)).toBe(false);
    expect(s.counted.reads - 1).toBeGreaterThan(MAX_RANGES);
    expect(s.counted.reads - 1).toBeLessThanOrEqual(FILTERED_MAX_RANGES);
    // About a bucket a read (16 digests, 32 characters a group of three), not a third of the part.
    expect(s.counted.bytes - filterBytes).toBeLessThan((s.counted.reads - 1) * 300);
  });

  it('finds a digest of a kept part copied into today, in any part, as without filters', async () => {
    for (const planted of [0, 61 * 491 + 59, 15, 61 * 1500 + 35, 61 * 2999 + 49]) {
      const [plain, filtered] = [ticked(false, planted), ticked(true, planted)];
      expect(await plain.run()).toBeUndefined();
      expect(await filtered.run()).toBeUndefined();
      expect(filtered.broken).toEqual([]);
    }
  });

  it('falls back to the digests when a filter is lost, changed, cut short or not a record (or a part has none): the same answers', async () => {
    const breakings: ((w: ReturnType<typeof ticked>) => void)[] = [
      (w) => w.s.objects.delete('k2.digests.filter'),
      // Every bit cleared: a filter believed would say "no" to every digest.
      (w) => w.s.objects.set('k2.digests.filter', Buffer.from(filterText(new Uint32Array(filterOf(digests(30_000, 1n)).length)))),
      (w) => w.s.objects.set('k2.digests.filter', (w.s.objects.get('k2.digests.filter') as Uint8Array).subarray(0, 4000)),
      (w) => {
        const kept = (w.parts[2] as WindowPart).kept as unknown as { filter: unknown };
        kept.filter = { ...(kept.filter as object), blocks: 'many' };
      },
      (w) => {
        const kept = (w.parts[2] as WindowPart).kept as unknown as { filter?: unknown };
        delete kept.filter;
      },
    ];
    for (const breakIt of breakings) {
      // The planted digest in the broken part (k2), and none.
      for (const planted of [61 * 1000 + 25, undefined]) {
        const w = ticked(true, planted);
        breakIt(w);
        const added = await w.run();
        expect(added === undefined).toBe(planted !== undefined);
        expect(w.broken).toEqual([]);
        // The part with no filter to believe had its digests read (whole: 3,000 new digests), the others their filters.
        expect(w.s.counted.bytes).toBeGreaterThan(digestsTextLength(30_000));
        expect(w.s.counted.bytes).toBeLessThan(digestsTextLength(30_000) + 6 * filterText(filterOf(digests(30_000, 1n))).length + 50_000);
      }
    }
  });
});
