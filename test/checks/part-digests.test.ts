import { describe, expect, it, vi } from 'vitest';
import {
  BUCKET_DIGESTS,
  digestsTextLength,
  digestsOfText,
  digestsText,
  keptHoldsAny,
  MAX_RANGES,
} from '../../shared/checks/part-digests.ts';
import { shareAKey, type WindowPart, windowOfParts } from '../../shared/checks/source-check-parts.ts';
import type { SourceCheckRow } from '../../shared/checks/source-rows.ts';
import { digests, store } from './digest-support.ts';

/** A kept part of 50,000 digests, and the values of 60,000 others it does not hold. */
function keptAndAbsent(seed: bigint, otherSeed: bigint) {
  const s = store();
  const sorted = digests(50_000, seed);
  const record = s.keep('p.digests', sorted);
  const kept = new Set(sorted);
  return { s, sorted, record, kept, absent: digests(60_000, otherSeed).filter((v) => !kept.has(v)) };
}

const LAKE: SourceCheckRow = {
  grain: 'lake',
  source: null,
  event_day: null,
  row_count: 1,
} as unknown as SourceCheckRow;

describe("a kept part's digests", () => {
  it('are fixed-width base64 text, read back whole or from any digest on, and refuse other text', () => {
    const sorted = digests(1000, 7n);
    const text = digestsText(sorted);
    expect(text).toMatch(/^[A-Za-z0-9+/]+$/);
    // 1,000 digests: 333 groups of three and one holding the last digest and two zeros.
    expect(text).toHaveLength(334 * 32);
    expect(digestsTextLength(1000)).toBe(334 * 32);
    expect([...(digestsOfText(Buffer.from(text), 1000) ?? [])]).toEqual([...sorted]);
    expect([...(digestsOfText(Buffer.from(text.slice(10 * 32, 12 * 32)), 6) ?? [])]).toEqual([...sorted.slice(30, 36)]);
    for (const bad of ['not the digests', text.slice(0, 31), `${text.slice(0, 31)}=`])
      expect(digestsOfText(Buffer.from(bad), 3)).toBeUndefined();
    // Fewer digests than asked for, or more than the zeros filling the last group.
    expect(digestsOfText(Buffer.from(text), 1003)).toBeUndefined();
    expect(digestsOfText(Buffer.from(text), 999)).toBeUndefined();
    // One character of the same length text not of base64's alphabet (base64url's, padding, white space, latin1).
    for (const character of ['-', '_', '=', ' ', '\n', '.', '\u00e9']) {
      const bytes = Buffer.from(text, 'latin1');
      bytes[5000] = character.charCodeAt(0);
      expect(digestsOfText(bytes, 1000)).toBeUndefined();
    }
  });

  it('are decoded a piece of their text at a time, never the whole text as a string, and refused in any piece', () => {
    // 250,000 digests: 2.7 MB of text, three pieces of 2^15 groups.
    const sorted = digests(250_000, 41n);
    const text = Buffer.from(digestsText(sorted));
    const strings = vi.spyOn(Buffer.prototype, 'toString');
    try {
      expect([...(digestsOfText(text, 250_000) ?? [])]).toEqual([...sorted]);
      const longest = Math.max(...strings.mock.results.map((r) => (typeof r.value === 'string' ? r.value.length : 0)));
      expect(longest).toBeLessThanOrEqual(2 ** 15 * 32);
    } finally {
      strings.mockRestore();
    }
    // A character not of base64's alphabet in the first, a middle and the last piece, on both sides of a piece's edge.
    for (const at of [3, 2 ** 15 * 32 - 1, 2 ** 15 * 32, 2 * 2 ** 15 * 32 + 5, text.length - 1]) {
      const bad = Buffer.from(text);
      bad[at] = '-'.charCodeAt(0);
      expect(digestsOfText(bad, 250_000)).toBeUndefined();
    }
  });

  it('are told apart by both halves of their 64 bits, among few values and as many as they hold', async () => {
    const { s, sorted, record, kept, absent: many } = keptAndAbsent(19n, 23n);
    for (const at of [0, 777, 31_415, 49_999]) {
      const value = sorted[at] as bigint;
      // The same high 32 bits and other low ones, the same low 32 bits and other high ones: not the digest.
      const halves = [value ^ 1n, value ^ (1n << 31n), value ^ (1n << 32n), value ^ (1n << 63n)].filter((v) => !kept.has(v));
      expect(halves).toHaveLength(4);
      for (const probes of [halves, [...many, ...halves]]) {
        expect(await keptHoldsAny(s.read, record, BigUint64Array.from(probes).sort())).toBe(false);
        expect(await keptHoldsAny(s.read, record, BigUint64Array.from([...probes, value]).sort())).toBe(true);
      }
    }
  });

  it('do not hold together when two digests are out of order or repeated in their low 32 bits alone', async () => {
    const s = store();
    const high = 0x1234_5678n << 32n;
    const sorted = BigUint64Array.from([...digests(3000, 29n), high | 5n, high | 9n]).sort();
    const record = s.keep('p.digests', sorted);
    const probe = BigUint64Array.from([high | 5n]);
    expect(await keptHoldsAny(s.read, record, probe)).toBe(true);
    const at = sorted.indexOf(high | 5n);
    for (const [first, second] of [
      [high | 9n, high | 5n],
      [high | 5n, high | 5n],
    ]) {
      const changed = sorted.slice();
      changed[at] = first as bigint;
      changed[at + 1] = second as bigint;
      s.objects.set('p.digests', Buffer.from(digestsText(changed)));
      expect(await keptHoldsAny(s.read, record, probe)).toBeUndefined();
    }
  });

  it('are found by the buckets a value falls in, reading about a bucket per value', async () => {
    const s = store();
    const sorted = digests(100_000, 11n);
    const record = s.keep('p.digests', sorted);
    expect(2 ** record.bits).toBeGreaterThanOrEqual(100_000 / BUCKET_DIGESTS);
    const absent = digests(5, 99n).filter((v) => !sorted.includes(v));
    expect(await keptHoldsAny(s.read, record, absent)).toBe(false);
    // Five values, five buckets of about 128 digests: not the part's 1.2 MB.
    expect(s.counted.bytes).toBeLessThan(5 * 3 * BUCKET_DIGESTS * 11);
    expect(s.counted.bytes).toBeGreaterThan(0);
    const present = BigUint64Array.from([...absent, sorted[54_321] as bigint]).sort();
    expect(await keptHoldsAny(s.read, record, present)).toBe(true);
    // Many values: the buckets are read in at most MAX_RANGES ranges.
    s.counted.reads = 0;
    expect(
      await keptHoldsAny(
        s.read,
        record,
        digests(2000, 5n).filter((v) => !sorted.includes(v)),
      ),
    ).toBe(false);
    expect(s.counted.reads).toBeLessThanOrEqual(MAX_RANGES);
  });

  it("read a lookup's ranges at once, not one round trip after another (S3 answers each ranged GET in its own time)", async () => {
    // GIVEN a kept part and a reader that answers each range after a delay, counting the reads in flight
    const s = store();
    const sorted = digests(100_000, 11n);
    const record = s.keep('p.digests', sorted);
    const inFlight = { now: 0, most: 0 };
    const slow = async (key: string, start: number, end: number) => {
      inFlight.most = Math.max(inFlight.most, ++inFlight.now);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight.now -= 1;
      return s.read(key, start, end);
    };
    // WHEN five absent values and then one present are looked up (five buckets apart)
    const absent = digests(5, 99n).filter((v) => !sorted.includes(v));
    expect(await keptHoldsAny(slow, record, absent)).toBe(false);
    // THEN their buckets were read together, with the same answers
    expect(s.counted.reads).toBe(absent.length);
    expect(inFlight.most).toBe(absent.length);
    expect(await keptHoldsAny(slow, record, BigUint64Array.from([...absent, sorted[54_321] as bigint]).sort())).toBe(true);
  });

  it('are found among as many new values as they hold (a whole new day), walked side by side', async () => {
    const { s, sorted, record, absent } = keptAndAbsent(13n, 17n);
    expect(await keptHoldsAny(s.read, record, absent)).toBe(false);
    for (const at of [0, 25_000, 49_999]) {
      const present = BigUint64Array.from([...absent, sorted[at] as bigint]).sort();
      expect(await keptHoldsAny(s.read, record, present)).toBe(true);
    }
    // Values all above or all below every digest.
    const top = sorted.at(-1) as bigint;
    const above = BigUint64Array.from(absent.filter((v) => v > top).slice(0, 1)).sort();
    expect(await keptHoldsAny(s.read, record, BigUint64Array.from([...absent.filter((v) => v < (sorted[0] as bigint)), ...above]))).toBe(
      false,
    );
  });

  it('do not hold together when the object is lost, cut, rewritten or its index is wrong', async () => {
    const s = store();
    const sorted = digests(5000, 13n);
    const record = s.keep('p.digests', sorted);
    const probe = BigUint64Array.from([sorted[100] as bigint]);
    s.objects.set('p.digests', Buffer.from(digestsText(sorted.slice(0, 4000))));
    expect(await keptHoldsAny(s.read, record, BigUint64Array.from([sorted[4500] as bigint]))).toBeUndefined();
    s.objects.set('p.digests', Buffer.from(digestsText(digests(5000, 17n))));
    expect(await keptHoldsAny(s.read, record, probe)).toBeUndefined();
    s.objects.delete('p.digests');
    expect(await keptHoldsAny(s.read, record, probe)).toBeUndefined();
    s.keep('p.digests', sorted);
    expect(await keptHoldsAny(s.read, { ...record, index: record.index.slice(8) }, probe)).toBeUndefined();
    expect(await keptHoldsAny(s.read, record, probe)).toBe(true);
  });
});

describe("the window's parts computed at once", () => {
  it('share a digest when two of them hold one value, in any slice of the hash range, and not otherwise', () => {
    const all = digests(40_000, 99n);
    const parts = [0, 1, 2, 3].map((k) => all.filter((_, i) => i % 4 === k));
    expect(shareAKey(parts)).toBe(false);
    // The range's ends, both sides of a slice's edge (its top 8 bits), the top slice, a value of another part.
    const TOP = 2n ** 64n - 1n;
    for (const value of [0n, (1n << 56n) - 1n, 1n << 56n, 255n << 56n, TOP, all[20_001] as bigint]) {
      const withIt = (sorted: BigUint64Array) => BigUint64Array.from(new Set([...sorted, value])).sort();
      const [a, b, c, d] = parts as [BigUint64Array, BigUint64Array, BigUint64Array, BigUint64Array];
      expect(shareAKey([withIt(a), b, c, withIt(d)])).toBe(true);
      expect(shareAKey([withIt(a), b, c, d])).toBe(value === all[20_001]);
    }
  });
});

describe('the window of parts computed at once, compared by slices', () => {
  /** Four kept parts of 20,000 digests (none checked: a first computation), compared 10,000 digests at a time (8 slices). */
  const all = digests(80_000, 77n);
  function firstComputation(value?: bigint, into: number[] = []) {
    const s = store();
    const parts = [0, 1, 2, 3].map((k): WindowPart => {
      const own = all.filter((_, i) => i % 4 === k);
      const sorted = into.includes(k) && value !== undefined ? BigUint64Array.from(new Set([...own, value])).sort() : own;
      return { id: `p${k}`, rows: [LAKE], kept: s.keep(`p${k}.digests`, sorted) };
    });
    const ranges: number[] = [];
    const read = async (key: string, start: number, end: number) => {
      ranges.push(end - start);
      return s.read(key, start, end);
    };
    const run = () => windowOfParts(parts, new Set(), { get: s.get, read, broken: async () => {}, sliceDigests: 10_000 });
    return { s, ranges, run };
  }

  it('reads each kept part back by slice, never holding a part whole, and adds the parts up when they share nothing', async () => {
    const w = firstComputation();
    expect(await w.run()).toMatchObject({ nowChecked: ['p0', 'p1', 'p2', 'p3'] });
    // Eight slices of each part, each one range of about 2,500 digests (text of 32 characters per three), the whole read once.
    expect(w.ranges).toHaveLength(4 * 8);
    expect(Math.max(...w.ranges)).toBeLessThan(digestsTextLength(2500 * 1.25));
    expect(w.s.counted.bytes).toBeLessThan(4 * digestsTextLength(20_000) * 1.01);
  });

  it('finds a value two parts share in any slice (the range ends, both sides of a slice edge, the top slice), and not one part alone', async () => {
    const TOP = 2n ** 64n - 1n;
    for (const value of [0n, (1n << 61n) - 1n, 1n << 61n, 7n << 61n, TOP]) {
      expect(await firstComputation(value, [0, 3]).run()).toBeUndefined();
      expect(await firstComputation(value, [2]).run()).toMatchObject({ nowChecked: ['p0', 'p1', 'p2', 'p3'] });
    }
  });
});

describe('the window of parts compares only what is new', () => {
  /** Three partitions kept and checked by the last run, the third computed again now with `now` as its digests. */
  function window(now: (before: BigUint64Array, other: BigUint64Array) => BigUint64Array) {
    const s = store();
    const all = digests(60_000, 21n);
    const [a, b, c] = [all.filter((_, i) => i % 3 === 0), all.filter((_, i) => i % 3 === 1), all.filter((_, i) => i % 3 === 2)];
    const kept = (name: string, sorted: BigUint64Array): WindowPart => ({
      id: name,
      rows: [LAKE],
      kept: s.keep(`${name}.digests`, sorted),
    });
    const parts = [
      kept('a', a),
      kept('b', b),
      { id: 'c2', rows: [LAKE], keys: now(c, a), before: { id: 'c', digests: s.keep('c.digests', c) } },
    ];
    const broken: WindowPart[] = [];
    const run = (checked: string[]) =>
      windowOfParts(parts, new Set(checked), {
        get: s.get,
        read: s.read,
        broken: async (part) => {
          broken.push(part);
        },
      });
    return { s, a, parts, broken, run };
  }
  const grown = (before: BigUint64Array) => BigUint64Array.from([...before, ...digests(10, 1234n)]).sort();

  it('adds the parts up when the new digests are in no other part, reading their buckets and the replaced part', async () => {
    const w = window(grown);
    const added = await w.run(['a', 'b', 'c']);
    expect(added?.rows?.find((r) => r.grain === 'lake')?.row_count).toBe(3);
    expect(added?.nowChecked).toEqual(['a', 'b', 'c2']);
    // The replaced part whole (20,000 digests), then ten buckets in each of the two others, not their 480 kB.
    expect(w.s.counted.bytes).toBeLessThan(digestsTextLength(20_000) + 2 * 10 * 3 * BUCKET_DIGESTS * 11);
  });

  it('reads the window at once when a new digest is in a kept part (a shared event or two events with one digest)', async () => {
    // One digest of the kept `a` among the new ones of `c`: found in `a`'s bucket it falls in.
    const w = window((before, other) => BigUint64Array.from([...grown(before), other[777] as bigint]).sort());
    expect(await w.run(['a', 'b', 'c'])).toBeUndefined();
  });

  it('compares a part whole when the part it replaced was not checked, and a kept part that was not', async () => {
    const shared = window((before) => BigUint64Array.from([...before]));
    // Nothing new against the checked `c`: nothing is looked up.
    shared.s.counted.bytes = 0;
    expect(await shared.run(['a', 'b', 'c'])).toMatchObject({ nowChecked: ['a', 'b', 'c2'] });
    expect(shared.s.counted.bytes).toBe(digestsTextLength(20_000));
    // No checked list: every part is read whole and compared.
    shared.s.counted.bytes = 0;
    expect(await shared.run([])).toMatchObject({ nowChecked: ['a', 'b', 'c2'] });
    expect(shared.s.counted.bytes).toBeGreaterThanOrEqual(2 * digestsTextLength(20_000));
  });

  it('reports a kept part whose digests are lost, and reads the window at once', async () => {
    const w = window(grown);
    w.s.objects.delete('a.digests');
    expect(await w.run(['a', 'b', 'c'])).toBeUndefined();
    expect(w.broken.map((p) => p.id)).toEqual(['a']);
    expect(await w.run(['b', 'c'])).toBeUndefined();
  });
});

describe('the kept parts a tick looks its new digests up in', () => {
  it('are read a few at a time, chosen by the digests they read (here whole: a larger part alone), not a fixed number of them', async () => {
    const s = store();
    const sizes = [12_000, 4_000, 4_000, 4_000, 20_000, 6_000];
    const all = digests(
      sizes.reduce((sum, n) => sum + n, 0),
      31n,
    );
    let from = 0;
    const parts: WindowPart[] = sizes.map((n, i) => {
      const sorted = all.slice(from, from + n);
      from += n;
      return { id: `k${i}`, rows: [LAKE], kept: s.keep(`k${i}.digests`, sorted) };
    });
    const kept = new Set(all);
    // A whole new day of digests none of them holds: every kept part is read whole, in one read.
    const today = digests(30_000, 77n).filter((v) => !kept.has(v));
    const inFlight = new Map<string, number>();
    let peak = 0;
    const read = async (key: string, start: number, end: number) => {
      inFlight.set(key, parts.find((p) => p.kept?.key === key)?.kept?.count ?? 0);
      peak = Math.max(
        peak,
        [...inFlight.values()].reduce((sum, n) => sum + n, 0),
      );
      await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight.delete(key);
      return s.read(key, start, end);
    };
    const run = (digestsAtOnce?: number) =>
      windowOfParts([...parts, { id: 'today', rows: [LAKE], keys: today }], new Set(parts.map((p) => p.id)), {
        get: s.get,
        read,
        broken: async () => {},
        ...(digestsAtOnce === undefined ? {} : { digestsAtOnce }),
      });
    const added = await run(12_000);
    expect(added?.rows?.find((r) => r.grain === 'lake')?.row_count).toBe(7);
    expect(s.counted.reads).toBe(6);
    // [12,000], [4,000 x2] (three and their bucket indexes pass 12,000), [4,000], [20,000] alone, [6,000]: four kept parts at once would hold 24,000.
    expect(peak).toBe(20_000);
    peak = 0;
    expect(await run(10_000)).toMatchObject({ nowChecked: [...parts.map((p) => p.id), 'today'] });
    expect(peak).toBe(20_000);
    // Within the default, all six at once.
    peak = 0;
    await run();
    expect(peak).toBe(50_000);
  });
});
