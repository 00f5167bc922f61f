import { keptHoldAny } from './kept-lookups.ts';
import {
  type DigestSlices,
  type DigestsRecord,
  digestsOfBytes,
  firstAtOrAbove,
  holds,
  keptSlices,
  type RangeReader,
  readDigests,
  sliceOf,
} from './part-digests.ts';
import { COUNT_COLUMNS, type SourceCheckRow } from './source-rows.ts';
import { DAY_MS } from './source-window.ts';

/**
 * The source checks' rows of a window from the rows of each of its `dt` partitions (the query
 * with `partition`), when no event (source, event_id) has a valid copy in two partitions
 * ({@link shareAKey}): then every group of the query's first aggregation lies in one partition,
 * so each count of a row is the sum of the partitions' counts and `latest_ms` their maximum.
 * `identity` rows are not the partitions' business and are left out.
 */
export function addParts(parts: readonly (readonly SourceCheckRow[])[]): SourceCheckRow[] {
  const added = new Map<string, SourceCheckRow>();
  for (const rows of parts) {
    for (const row of rows) {
      if (row.grain === 'identity') continue;
      const key = JSON.stringify([row.grain, row.source, row.event_day]);
      const before = added.get(key);
      if (before === undefined) {
        added.set(key, row);
        continue;
      }
      const sums = Object.fromEntries(COUNT_COLUMNS.map((column) => [column, before[column] + row[column]]));
      const latest =
        before.latest_ms === null ? row.latest_ms : row.latest_ms === null ? before.latest_ms : Math.max(before.latest_ms, row.latest_ms);
      added.set(key, { ...before, ...sums, latest_ms: latest });
    }
  }
  return [...added.values()];
}

/**
 * Whether two of the partitions' key digests (each sorted ascending, no repeats) share a value:
 * then an event may have copies in two partitions and the parts cannot simply be added. Equal
 * events have equal digests, so no shared digest means no shared event (a shared digest may be
 * a collision; the caller then reads the whole window at once, which is exact either way).
 * `checked` are partitions already known to share nothing among themselves: only the others are
 * compared with every partition.
 */
export function shareAKey(keys: readonly BigUint64Array[], checked: ReadonlySet<number> = new Set()): boolean {
  if ((keys.length - checked.size) * 2 > keys.length) return repeatsAValue(keys);
  for (let i = 0; i < keys.length; i += 1) {
    if (checked.has(i)) continue;
    const mine = keys[i] as BigUint64Array;
    for (let j = 0; j < keys.length; j += 1) {
      if (j === i) continue;
      const other = keys[j] as BigUint64Array;
      const [small, large] = mine.length <= other.length ? [mine, other] : [other, mine];
      for (const value of small) if (holds(large, value)) return true;
    }
  }
  return false;
}

/**
 * The hash range is compared in this many slices (by a digest's top 8 bits), one at a time: a
 * value in two arrays is in the same slice of both. Sorting every array together held a copy of
 * every digest of the window (8 bytes each) beside the arrays themselves.
 */
const SLICES = 256;

/** Whether a value is in two of the arrays (each sorted ascending, without repeats): their values sorted together, a slice of the hash range at a time. */
function repeatsAValue(keys: readonly BigUint64Array[]): boolean {
  const from = keys.map(() => 0);
  for (let slice = 1; slice <= SLICES; slice += 1) {
    const inSlice = keys.map((k, i) => {
      const to = slice === SLICES ? k.length : firstAtOrAbove(k, BigInt(slice) << 56n, from[i] as number);
      const values = k.subarray(from[i], to);
      from[i] = to;
      return values;
    });
    const all = sortedTogether(inSlice);
    for (let i = 1; i < all.length; i += 1) if (all[i] === all[i - 1]) return true;
  }
  return false;
}

/** The values of the arrays in one array, sorted ascending. */
function sortedTogether(arrays: readonly BigUint64Array[]): BigUint64Array {
  const all = new BigUint64Array(arrays.reduce((sum, a) => sum + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    all.set(a, at);
    at += a.length;
  }
  return all.sort();
}

/**
 * What a tick holds at most of the kept parts it reads at once, in digests' worth of memory
 * (HELD_BYTES_A_DIGEST, 19 bytes: what a digest of a part read whole holds while compared, its text
 * and its digests; the text is decoded a piece at a time, digestsOfText), about 230 MB; a larger part
 * alone. 12M digests is the four parts of 3M events a day read whole together before the filters.
 * Each part is weighed by what it reads (kept-lookups.ts): its filter (a 16th of its digests' worth:
 * 16 parts at once of 3M digests, 4 of 10M), then the ranges of the values its filter leaves (a few
 * buckets), or of every value when it has no filter to believe (up to the part whole). Until
 * 2026-12-07 parts were chosen by their digest counts alone, so at 10M a day filtered parts went one
 * at a time.
 */
export const KEPT_DIGESTS_AT_ONCE = 12_000_000;

/** One partition's part of the window: its rows and event digests, in memory or kept. */
export interface WindowPart {
  /** What the part was computed from and its digests: a part with the same id holds the same digests. */
  readonly id: string;
  readonly rows: readonly SourceCheckRow[];
  /** Digests of its valid events in the window, sorted ascending, no repeats: a part computed by this run. */
  readonly keys?: BigUint64Array;
  /** Where a kept part's digests are (absent for a part computed by this run). */
  readonly kept?: DigestsRecord;
  /** The kept part a computed one replaces (the same partition, other files or day): only its new digests can be shared. */
  readonly before?: { readonly id: string; readonly digests: DigestsRecord };
}

/** How {@link windowOfParts} reads kept digests. */
export interface KeptDigests {
  /** A kept object whole. */
  readonly get: (key: string) => Promise<Uint8Array | undefined>;
  /** Some bytes of a kept object. */
  readonly read: RangeReader;
  /** Called with a kept part whose digests do not hold together (the run then reads the window at once). */
  readonly broken: (part: WindowPart) => Promise<void>;
  /** About this many digests of the window are compared at a time when every part is. @default SLICE_DIGESTS */
  readonly sliceDigests?: number;
  /** At most this many digests' worth of kept parts is held at once (a larger part alone). @default KEPT_DIGESTS_AT_ONCE */
  readonly digestsAtOnce?: number;
}

/**
 * About this many digests of the window (8 bytes each, 16 MiB) a run that compares every part holds
 * at a time: the hash range is cut into as many slices (a power of two, by a digest's top bits) as
 * the window has of them, and each slice of each part is read by its own range.
 */
export const SLICE_DIGESTS = 2 ** 21;

/**
 * Whether a run compares every part slice by slice ({@link windowOfParts}): more than half of them
 * changed since the last check (a first computation, or after the parts or `checked.json` were lost).
 * Then the parts it computes need not be held once written: their digests are read back by slice.
 */
export const comparesBySlices = (changed: number, parts: number): boolean => changed * 2 > parts;

/**
 * The window's rows added up from its parts; undefined when two of them may share an event digest
 * (the caller reads the window at once, as it does when `rows` is absent: no part has a row).
 * `checked` are the ids of parts the last run found sharing nothing; `nowChecked` is the list to
 * keep for the next run, absent when unchanged.
 *
 * Only what is new is compared: the kept parts in `checked` share nothing among themselves, so an
 * event shared now has a digest that is in some other part and is new in its own, i.e. a digest of
 * a part not in `checked`, or of a computed part that its kept version (in `checked`) did not hold.
 * Those few digests are looked up in the other parts in memory, and in the kept ones through their
 * filters (digest-filter.ts: read whole, 2.7 bytes a digest) by the buckets of those the filter
 * cannot rule out (part-digests.ts): 10,000 new digests a tick at 3M events a day read 293 MB of
 * 1005 (bench/RESULTS.md, the source-digests bench). A part kept without a filter has every new digest looked
 * up by its buckets: about 1 KiB per new digest while they are a few dozen, the part whole with
 * hundreds. A few kept parts at a time, by what each holds while read ({@link KEPT_DIGESTS_AT_ONCE}; BUCKET_DIGESTS).
 *
 * When more than half the parts changed ({@link comparesBySlices}: a first computation), every part
 * is compared with every other one slice of the hash range at a time ({@link SLICE_DIGESTS}), the
 * kept ones read by the ranges of their slices: the run holds one slice of the window's digests,
 * not all of them, and the parts it computed and wrote need not be held.
 */
export async function windowOfParts(
  parts: readonly WindowPart[],
  checked: ReadonlySet<string>,
  kept: KeptDigests,
): Promise<{ readonly rows?: SourceCheckRow[]; readonly nowChecked?: string[] } | undefined> {
  const known = parts.filter((p) => p.keys === undefined && checked.has(p.id));
  const rows = () => {
    const added = addParts(parts.map((p) => p.rows));
    return added.some((row) => row.grain === 'lake') ? { rows: added } : {};
  };
  if (known.length === parts.length) return rows();
  if (comparesBySlices(parts.length - known.length, parts.length)) {
    const shared = await shareBySlices(parts, kept);
    return shared === false ? { ...rows(), nowChecked: parts.map((p) => p.id) } : undefined;
  }
  const changed: { readonly all: BigUint64Array; readonly fresh: BigUint64Array }[] = [];
  for (const part of parts) {
    if (known.includes(part)) continue;
    const all = part.keys ?? (part.kept ? await readDigests(kept.get, part.kept) : undefined);
    if (all === undefined) {
      await kept.broken(part);
      return undefined;
    }
    const before =
      part.keys !== undefined && part.before && checked.has(part.before.id) ? await readDigests(kept.get, part.before.digests) : undefined;
    changed.push({ all, fresh: before === undefined ? all : without(all, before) });
  }
  const unchanged = new Set(changed.flatMap((c, i) => (c.fresh.length === 0 ? [i] : [])));
  if (
    shareAKey(
      changed.map((c) => c.all),
      unchanged,
    )
  )
    return undefined;
  // Only looked up in kept parts (none when every part changed: no second copy of their digests).
  const probes = known.length === 0 ? new BigUint64Array(0) : union(changed.map((c) => c.fresh));
  // A few kept parts at once, by what each holds while read; the first broken one (in order) is reported.
  const budget = kept.digestsAtOnce ?? KEPT_DIGESTS_AT_ONCE;
  if (probes.length > 0 && (await keptHoldAny(known, (p) => p.kept as DigestsRecord, probes, kept, budget))) return undefined;
  return { ...rows(), nowChecked: parts.map((p) => p.id) };
}

/**
 * Whether two of the parts share a value, compared one slice of the hash range at a time (a value in
 * two parts is in the same slice of both): the slice of each part, in memory or read by its range,
 * sorted together. Undefined when a kept part's digests do not hold together (reported).
 */
async function shareBySlices(parts: readonly WindowPart[], kept: KeptDigests): Promise<boolean | undefined> {
  const total = parts.reduce((sum, p) => sum + (p.keys?.length ?? p.kept?.count ?? 0), 0);
  const sliceBits = Math.min(16, Math.max(0, Math.ceil(Math.log2(total / (kept.sliceDigests ?? SLICE_DIGESTS)))));
  const sources = parts.map((p): DigestSlices | undefined => {
    const { keys } = p;
    if (keys !== undefined) return { slice: async (slice) => sliceOf(keys, slice, sliceBits) };
    return p.kept === undefined ? undefined : keptSlices(kept.get, kept.read, p.kept, sliceBits);
  });
  const broken = async (i: number) => {
    await kept.broken(parts[i] as WindowPart);
    return undefined;
  };
  if (sources.includes(undefined)) return broken(sources.indexOf(undefined));
  for (let slice = 0; slice < 2 ** sliceBits; slice += 1) {
    const inSlice = await Promise.all(sources.map((source) => (source as DigestSlices).slice(slice)));
    if (inSlice.includes(undefined)) return broken(inSlice.indexOf(undefined));
    const all = sortedTogether(inSlice as BigUint64Array[]);
    for (let i = 1; i < all.length; i += 1) if (all[i] === all[i - 1]) return true;
  }
  return false;
}

/** The values of a sorted array not in another (both ascending, no repeats). */
function without(all: BigUint64Array, before: BigUint64Array): BigUint64Array {
  const out = new BigUint64Array(all.length);
  let n = 0;
  let j = 0;
  for (const value of all) {
    while (j < before.length && (before[j] as bigint) < value) j += 1;
    if (before[j] !== value) out[n++] = value;
  }
  return out.slice(0, n);
}

/** The values of sorted arrays, sorted, without repeats. */
function union(arrays: readonly BigUint64Array[]): BigUint64Array {
  const all = sortedTogether(arrays);
  let n = 0;
  for (let i = 0; i < all.length; i += 1) if (i === 0 || all[i] !== all[i - 1]) all[n++] = all[i] as bigint;
  return all.slice(0, n);
}

/** Event digests as text: sorted 64-bit values in the machine's byte order, base64, a newline. */
export const keysText = (sorted: BigUint64Array): string =>
  `${Buffer.from(sorted.buffer, sorted.byteOffset, sorted.byteLength).toString('base64')}\n`;

/** The digests of {@link keysText}; undefined when the text is no whole number of 64-bit values. */
export const keysOfText = (text: string): BigUint64Array | undefined => digestsOfBytes(Buffer.from(text, 'base64'));

/**
 * The as-of a part is compiled for: the first instant of T's day (its midnight when T is one). A
 * part does not depend on T itself once every row of it is before T, so its fingerprint names T's day.
 */
export function partAsOf(asOf: Date): Date {
  const endMs = asOf.getTime();
  const midnight = Math.floor(endMs / DAY_MS) * DAY_MS;
  return new Date(endMs === midnight ? endMs : midnight + 1);
}

/** Event digests as they are read, 8 bytes each (no BigInt kept per event). */
export class DigestList {
  private values = new BigUint64Array(1024);
  private length = 0;

  push(value: bigint): void {
    if (this.length === this.values.length) {
      const grown = new BigUint64Array(this.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length] = value;
    this.length += 1;
  }

  /** The digests read, sorted ascending (repeats are the caller's: the query returns each once). */
  sorted(): BigUint64Array {
    return this.values.slice(0, this.length).sort();
  }
}
